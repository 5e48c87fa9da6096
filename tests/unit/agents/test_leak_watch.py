"""The leak watch: a memory ramp its traffic does not explain is predicted to breach, once per
``repeat_s``, with a level a restart gets under; healthy rounds, a surge, a platform without a
learnt model and a restart predict nothing; the Predictive agent emits (and keeps) what it
finds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from selfheal_ml.agents.base import AgentContext, Thresholds
from selfheal_ml.agents.leak_watch import DISK, LeakWatch, minute_means
from selfheal_ml.agents.leak_watch import MEMORY as MEMORY_RESOURCE
from selfheal_ml.agents.predictive import PredictiveAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import BreachPredicted, MetricPoint, MetricsCollected
from selfheal_ml.storage import Database
from selfheal_ml.storage.forecasts import ForecastStore
from selfheal_ml.storage.metrics import MetricsStore

MEMORY = 'host_memory_percent{host="a-1",platform="a"}'
TRAFFIC = 'http_requests_per_s{endpoint="/",platform="a"}'
LABELS = {"host": "a-1", "platform": "a"}


class Platform:
    """Memory = 45 + 0.1 x traffic + AR(1) noise (the simulator's shape), one point a minute."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.noise = 0.0
        self.minute = 0

    def step(self, leak: float = 0.0, surge: float = 0.0) -> tuple[float, float]:
        self.noise = 0.92 * self.noise + 0.37 * self.rng.standard_normal()
        traffic = 40.0 + 15.0 * np.sin(2 * np.pi * self.minute / 1440.0) + surge
        self.minute += 1
        return 45.0 + 0.1 * traffic + self.noise + leak, traffic


def _store_history(metrics: MetricsStore, platform: Platform, start: datetime) -> None:
    rows = []
    for minute in range(1440):
        memory, traffic = platform.step()
        ts = start + timedelta(minutes=minute)
        rows += [(MEMORY, ts, memory), (TRAFFIC, ts, traffic)]
    metrics.append_batch(
        pd.DataFrame(rows, columns=["series", "ts", "value"]),
        labels={MEMORY: LABELS, TRAFFIC: {"endpoint": "/", "platform": "a"}},
    )
    metrics.rollup(start + timedelta(days=1, minutes=1))


def _round(ts: datetime, memory: float, traffic: float) -> list[MetricPoint]:
    return [
        MetricPoint(series=MEMORY, ts=ts, value=memory, labels=LABELS),
        MetricPoint(
            series=TRAFFIC, ts=ts, value=traffic, labels={"endpoint": "/", "platform": "a"}
        ),
    ]


def _watch(db_path: Path, clock: SimClock, seed: int = 3) -> tuple[LeakWatch, Platform, Database]:
    database = Database(db_path)
    metrics = MetricsStore(database, clock)
    platform = Platform(seed)
    _store_history(metrics, platform, clock.now() - timedelta(days=1))
    return LeakWatch(metrics, limit=85.0), platform, database


def _run(
    watch: LeakWatch, platform: Platform, clock: SimClock, minutes: int, **push: float
) -> list[tuple[int, BreachPredicted]]:
    """Rounds every 30 s for ``minutes``; a leak of ``push['leak']`` points a minute from the
    start, or a surge of ``push['surge']`` requests a second from minute 10."""
    found = []
    for minute in range(minutes):
        leak = push.get("leak", 0.0) * minute
        surge = push.get("surge", 0.0) if minute >= 10 else 0.0
        memory, traffic = platform.step(leak=leak + (0.1 * surge * 1.8), surge=surge)
        for _half in (0, 30):
            clock.advance(30)
            watch.observe(_round(clock.now(), memory, traffic))
            found += [(minute, event) for event in watch.check(clock.now())]
    return found


def test_minute_means_bucket_points_by_minute_up_to_now() -> None:
    now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    points = [(now - timedelta(seconds=s), 1.0) for s in (0, 30, 61, 599, 600)]
    means = minute_means(points, now, 10)
    assert means[-1] == 1.0 and means[-2] == 1.0 and means[0] == 1.0
    assert int(np.isfinite(means).sum()) == 3  # the point 600 s back is out of the window


def test_a_leak_is_predicted_with_a_level_a_restart_gets_under(
    db_path: Path, sim_clock: SimClock
) -> None:
    watch, platform, database = _watch(db_path, sim_clock)
    found = _run(watch, platform, sim_clock, 60, leak=0.2)  # 12 points an hour
    assert found, "a leak of 12 points an hour went unseen for an hour"
    first_minute, first = found[0]
    assert first_minute <= 40
    assert first.series == MEMORY and first.labels == LABELS and first.limit == 85.0
    assert first.value is not None and first.recovered_below is not None
    assert 45.0 + 0.1 * 40.0 < first.recovered_below < first.value
    assert first.eta > first.ts and first.probability > 0.99
    repeats = [minute for minute, _ in found]
    assert all(later - earlier >= 5 for earlier, later in pairwise(repeats))
    database.close()


def test_healthy_rounds_and_a_surge_predict_nothing(db_path: Path, sim_clock: SimClock) -> None:
    watch, platform, database = _watch(db_path, sim_clock)
    assert _run(watch, platform, sim_clock, 180) == []
    assert MEMORY in watch.baselines  # judged against a learnt model, not skipped
    # a surge triples the traffic at once and memory rises more than the learnt share says
    assert _run(watch, platform, sim_clock, 60, surge=80.0) == []
    database.close()


def test_a_restart_ends_the_predictions(db_path: Path, sim_clock: SimClock) -> None:
    watch, platform, database = _watch(db_path, sim_clock)
    assert _run(watch, platform, sim_clock, 60, leak=0.2)
    assert _run(watch, platform, sim_clock, 30) == []  # the leak is gone: back to healthy
    database.close()


def _wander(
    watch: LeakWatch, platform: Platform, clock: SimClock, height: float
) -> list[BreachPredicted]:
    """Rounds every 30 s for 40 minutes: memory climbs ``height`` points over 14 minutes
    from minute 10 and decays back with the noise's memory (seed 7023's 5-sd wander on
    clientcontact.io, 01-09 14:33-15:00, in the simulator's replay)."""
    found = []
    excess = 0.0
    for minute in range(40):
        if 10 <= minute < 24:
            excess += height / 14.0
        elif minute >= 24:
            excess *= 0.8
        memory, traffic = platform.step(leak=excess)
        for _half in (0, 30):
            clock.advance(30)
            watch.observe(_round(clock.now(), memory, traffic))
            found += watch.check(clock.now())
    return found


def test_a_wander_that_falls_back_before_the_confirmation_predicts_nothing(
    db_path: Path, sim_clock: SimClock
) -> None:
    watch, platform, database = _watch(db_path, sim_clock)
    assert watch.confirm_s == 0.0  # the default predicts at once: the wander is named a leak
    assert _wander(watch, platform, sim_clock, height=5.5)
    later, platform, second = _watch(db_path.with_name("later.duckdb"), sim_clock)
    later.confirm_s = 240.0  # leak_confirm_s = 240: it must hold for 4 minutes
    assert _wander(later, platform, sim_clock, height=5.5) == []
    database.close()
    second.close()


def test_no_model_no_prediction(db_path: Path, sim_clock: SimClock) -> None:
    database = Database(db_path)
    watch = LeakWatch(MetricsStore(database, sim_clock), limit=85.0)  # an empty store
    assert _run(watch, Platform(1), sim_clock, 60, leak=0.3) == []
    database.close()


def test_a_series_without_a_model_is_learnt_again_within_minutes(
    db_path: Path, sim_clock: SimClock
) -> None:
    """A fresh service has no history at its first check; the model is learnt as soon as the
    store holds enough (``RETRY_S``, 10 minutes), not an hour later. Retries for a series
    still without one (a new host) leave a learnt model alone until the hourly refresh."""
    database = Database(db_path)
    metrics = MetricsStore(database, sim_clock)
    watch = LeakWatch(metrics, limit=85.0)
    platform = Platform(4)
    _run(watch, platform, sim_clock, 2)
    assert watch.baselines == {}
    _store_history(metrics, platform, sim_clock.now() - timedelta(days=1))
    _run(watch, platform, sim_clock, 10)  # minutes, not the hour
    learnt = watch.baselines[MEMORY]
    new_host = 'host_memory_percent{host="a-2",platform="a"}'
    watch.observe([MetricPoint(series=new_host, ts=sim_clock.now(), value=50.0, labels=LABELS)])
    _run(watch, platform, sim_clock, 25)  # two retries for the new host
    assert new_host not in watch.baselines
    assert watch.baselines[MEMORY] is learnt
    _run(watch, platform, sim_clock, 35)  # the hourly refresh (from the learning) re-learns it
    assert watch.baselines[MEMORY] is not learnt
    database.close()


async def test_the_predictive_agent_emits_the_watch_s_predictions(
    db_path: Path, sim_clock: SimClock
) -> None:
    database = Database(db_path)
    context = AgentContext(
        bus=InMemoryEventBus(),
        clock=sim_clock,
        metrics=MetricsStore(database, sim_clock),
        extras={"forecast_store": ForecastStore(database)},
    )
    platform = Platform(5)
    _store_history(context.metrics, platform, sim_clock.now() - timedelta(days=1))
    agent = PredictiveAgent(context)
    assert [watch.resource for watch in agent.leaks] == [MEMORY_RESOURCE, DISK]
    assert [watch.limit for watch in agent.leaks] == [85.0, 90.0]  # the threshold table's
    limited = dataclasses.replace(context, thresholds=Thresholds(memory_percent=80.0,
                                                                 disk_percent=75.0))  # fmt: skip
    assert [watch.limit for watch in PredictiveAgent(limited).leaks] == [80.0, 75.0]
    breaches = []
    for minute in range(60):
        sim_clock.advance(60)
        memory, traffic = platform.step(leak=0.2 * minute)
        event = MetricsCollected(
            ts=sim_clock.now(), source="t", points=tuple(_round(sim_clock.now(), memory, traffic))
        )
        breaches += [e for e in await agent.handle(event) if isinstance(e, BreachPredicted)]
    assert breaches and {event.series for event in breaches} == {MEMORY}
    with database.read() as conn:  # each prediction is kept with the capacity check's
        kept = conn.execute("SELECT count(*) FROM breach_predictions").fetchone()
    assert kept == (len(breaches),)
    off = AgentContext(
        bus=InMemoryEventBus(), clock=sim_clock, metrics=context.metrics,
        extras={"predictive": {"leak_ramp_z": 0.0, "disk_ramp_z": 0.0}},
    )  # fmt: skip
    assert PredictiveAgent(off).leaks == []
    database.close()


def test_a_host_without_a_platform_is_judged_without_traffic(
    db_path: Path, sim_clock: SimClock
) -> None:
    database = Database(db_path)
    metrics = MetricsStore(database, sim_clock)
    series, labels = 'host_memory_percent{host="box"}', {"host": "box"}
    platform = Platform(7)
    start = sim_clock.now() - timedelta(days=1)
    history = [(series, start + timedelta(minutes=m), platform.step()[0]) for m in range(1440)]
    metrics.append_batch(
        pd.DataFrame(history, columns=["series", "ts", "value"]), labels={series: labels}
    )
    metrics.rollup(start + timedelta(days=1, minutes=1))
    watch = LeakWatch(metrics, limit=85.0)
    found = []
    for minute in range(60):
        sim_clock.advance(60)
        memory = platform.step(leak=0.2 * minute)[0]
        watch.observe([MetricPoint(series=series, ts=sim_clock.now(), value=memory, labels=labels)])
        found += watch.check(sim_clock.now())
    assert watch.baselines[series].share == 0.0
    assert found and found[0].labels == labels
    database.close()


async def test_a_failing_watch_costs_the_round_nothing(db_path: Path, sim_clock: SimClock) -> None:
    database = Database(db_path)
    context = AgentContext(
        bus=InMemoryEventBus(), clock=sim_clock, metrics=MetricsStore(database, sim_clock)
    )
    agent = PredictiveAgent(context)
    assert [watch.resource for watch in agent.leaks] == [MEMORY_RESOURCE, DISK]

    def broken(now: datetime) -> list[BreachPredicted]:
        raise RuntimeError("the store went away")

    for watch in agent.leaks:
        watch.check = broken  # type: ignore[method-assign]
    event = MetricsCollected(
        ts=sim_clock.now(), source="t", points=tuple(_round(sim_clock.now(), 50.0, 40.0))
    )
    assert await agent.handle(event) == []
    assert agent.scored == 2  # the round was scored all the same
    database.close()


def _disk_point(series: str, ts: datetime, value: float, labels: dict[str, str]) -> MetricPoint:
    return MetricPoint(series=series, ts=ts, value=value, labels=labels)


class Disk:
    """A host disk as the simulator has it: a level and AR(1) noise of a tenth of memory's,
    one point a minute; ``fill`` points a minute once filling."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.noise = 0.0

    def step(self, fill: float = 0.0) -> float:
        self.noise = 0.92 * self.noise + 0.036 * self.rng.standard_normal()
        return 48.0 + self.noise + fill


def _disk_watch(
    db_path: Path, clock: SimClock, disk: Disk, series: str, labels: dict[str, str]
) -> tuple[LeakWatch, Database]:
    database = Database(db_path)
    metrics = MetricsStore(database, clock)
    start = clock.now() - timedelta(days=1)
    history = [(series, start + timedelta(minutes=m), disk.step()) for m in range(1440)]
    metrics.append_batch(
        pd.DataFrame(history, columns=["series", "ts", "value"]), labels={series: labels}
    )
    metrics.rollup(start + timedelta(days=1, minutes=1))
    return LeakWatch(metrics, 90.0, DISK.z_threshold, resource=DISK), database


def test_a_filling_disk_is_predicted_within_minutes_and_a_steady_one_never(
    db_path: Path, sim_clock: SimClock
) -> None:
    series, labels = 'host_disk_percent{host="a-1",platform="a"}', {"host": "a-1", "platform": "a"}
    disk = Disk(11)
    watch, database = _disk_watch(db_path, sim_clock, disk, series, labels)
    steady = []
    for _minute in range(180):  # three healthy hours, and traffic the disk watch ignores
        sim_clock.advance(60)
        watch.observe(_round(sim_clock.now(), 60.0, 40.0))
        watch.observe([_disk_point(series, sim_clock.now(), disk.step(), labels)])
        steady += watch.check(sim_clock.now())
    assert steady == [] and watch.traffic == {}
    found: list[tuple[int, BreachPredicted]] = []
    for minute in range(1, 31):  # 7.2 points an hour: the simulator's slowest fill
        sim_clock.advance(60)
        watch.observe([_disk_point(series, sim_clock.now(), disk.step(0.12 * minute), labels)])
        found += [(minute, event) for event in watch.check(sim_clock.now())]
    assert found, "a disk filling 7.2 points an hour went unseen for 30 minutes"
    first_minute, first = found[0]
    assert first_minute <= 6 and first.series == series and first.limit == 90.0
    assert first.value is not None and first.recovered_below is not None
    assert 48.0 < first.recovered_below < first.value
    database.close()


def test_one_jump_of_a_disk_is_not_a_steep_fill(db_path: Path, sim_clock: SimClock) -> None:
    """A large file written at once is a jump, clipped at 6 sds: not a fill by itself."""
    series, labels = 'host_disk_percent{host="b"}', {"host": "b"}
    disk = Disk(5)
    watch, database = _disk_watch(db_path, sim_clock, disk, series, labels)
    found = []
    for minute in range(40):
        sim_clock.advance(60)
        jump = 0.5 if minute >= 20 else 0.0  # 14 innovation sds at once, then flat
        watch.observe([_disk_point(series, sim_clock.now(), disk.step(jump), labels)])
        found += watch.check(sim_clock.now())
    assert found == []
    database.close()


def test_a_disk_growing_too_slowly_to_fill_within_a_day_is_not_predicted(
    db_path: Path, sim_clock: SimClock
) -> None:
    """1.2 points an hour from 48 % is a significant ramp on a steady disk, but 35 hours from
    the limit: only a watch without the 24-hour horizon predicts it."""
    series, labels = 'host_disk_percent{host="c"}', {"host": "c"}
    watches = []
    for horizon_s in (DISK.horizon_s, None):
        clock = SimClock(sim_clock.now())
        disk = Disk(23)
        resource = dataclasses.replace(DISK, horizon_s=horizon_s)
        watch, database = _disk_watch(db_path.with_name(f"{horizon_s}.duckdb"), clock, disk,
                                      series, labels)  # fmt: skip
        watch.resource = resource
        found = []
        for minute in range(1, 181):  # three hours: the ramp outgrows the hour window
            clock.advance(60)
            watch.observe([_disk_point(series, clock.now(), disk.step(0.02 * minute), labels)])
            found += watch.check(clock.now())
        watches.append(found)
        database.close()
    with_horizon, without = watches
    assert with_horizon == [] and without, "the ramp was too weak to test the horizon"
    assert (without[0].eta - without[0].ts).total_seconds() > 86400.0
