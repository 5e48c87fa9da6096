"""Monitor agent: one round per health tick, stored, judged, rolled up; collectors fail alone."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from selfheal_ml.agents.base import AgentContext, Thresholds
from selfheal_ml.agents.monitor import MonitorAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.collectors.base import metric_point
from selfheal_ml.events import (
    AlertRaised,
    Event,
    HealthChecked,
    MetricPoint,
    MetricsCollected,
    Tick,
)
from selfheal_ml.repair.side_effects import announcement, expected_disturbance
from selfheal_ml.storage import Database
from selfheal_ml.storage.metrics import MetricsStore


class Scripted:
    """A collector returning whatever the test sets."""

    name = "scripted"

    def __init__(self) -> None:
        self.values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    async def collect(self, now: datetime) -> list[MetricPoint]:
        return [
            metric_point(name, dict(labels), value, now)
            for (name, labels), value in self.values.items()
        ]


class Hanging:
    name = "hanging"

    async def collect(self, now: datetime) -> list[MetricPoint]:
        await asyncio.sleep(30)
        return []


def _set(collector: Scripted, name: str, value: float, **labels: str) -> None:
    collector.values[(name, tuple(sorted(labels.items())))] = value


async def test_round_stores_points_alerts_and_health(db_path: Path, sim_clock: SimClock) -> None:
    database = Database(db_path)
    store = MetricsStore(database, sim_clock)
    scripted = Scripted()
    _set(scripted, "http_latency_p95_ms", 3500.0, platform="a", endpoint="/x")
    _set(scripted, "db_up", 0.0, dependency="postgres")
    _set(scripted, "host_cpu_percent", 20.0, platform="b", host="b1")
    context = AgentContext(
        bus=InMemoryEventBus(),
        clock=sim_clock,
        metrics=store,
        extras={"collectors": [scripted, Hanging()], "collection_timeout_s": 0.2},
    )
    agent = MonitorAgent(context)
    produced = await agent.handle(Tick(ts=sim_clock.now(), source="t", kind="health"))

    collected = [event for event in produced if isinstance(event, MetricsCollected)]
    assert len(collected) == 1
    assert agent.last_result is not None and "hanging" in agent.last_result.errors
    alerts = {event.alertname: event for event in produced if isinstance(event, AlertRaised)}
    assert alerts["DatabaseConnectionFailure"].severity == "critical"
    assert alerts["HighResponseTime"].labels["platform"] == "a"
    health = {event.target: event.status for event in produced if isinstance(event, HealthChecked)}
    assert health == {"a": "degraded", "b": "degraded"}  # the database is shared: both degrade
    latest = store.latest('db_up{dependency="postgres"}')
    assert latest is not None and latest[1] == 0.0
    database.close()


async def test_cleared_condition_resolves_with_the_same_correlation_id(sim_clock: SimClock) -> None:
    scripted = Scripted()
    _set(scripted, "db_up", 0.0, dependency="postgres")
    agent = MonitorAgent(
        AgentContext(bus=InMemoryEventBus(), clock=sim_clock, extras={"collectors": [scripted]})
    )
    first = await agent.handle(Tick(ts=sim_clock.now(), source="t", kind="health"))
    _set(scripted, "db_up", 1.0, dependency="postgres")
    later = sim_clock.now() + timedelta(seconds=30)
    second = await agent.handle(Tick(ts=later, source="t", kind="health"))
    fired = [event for event in first if isinstance(event, AlertRaised)]
    cleared = [event for event in second if isinstance(event, AlertRaised)]
    assert [event.firing for event in fired] == [True]
    assert [event.firing for event in cleared] == [False]
    assert cleared[0].correlation_id == fired[0].correlation_id


async def test_the_disk_alert_fires_past_the_configured_limit(sim_clock: SimClock) -> None:
    scripted = Scripted()
    _set(scripted, "host_disk_percent", 82.0, platform="shop", host="shop-1")

    async def fired(disk_percent: float) -> list[str]:
        context = AgentContext(
            bus=InMemoryEventBus(), clock=sim_clock, extras={"collectors": [scripted]},
            thresholds=Thresholds(disk_percent=disk_percent),
        )  # fmt: skip
        produced = await MonitorAgent(context).handle(
            Tick(ts=sim_clock.now(), source="t", kind="health")
        )
        return [event.alertname for event in produced if isinstance(event, AlertRaised)]

    assert await fired(90.0) == []
    assert await fired(80.0) == ["HighDisk"]


async def test_other_ticks_and_no_collectors_do_nothing(sim_clock: SimClock) -> None:
    agent = MonitorAgent(AgentContext(bus=InMemoryEventBus(), clock=sim_clock))
    assert await agent.handle(Tick(ts=sim_clock.now(), source="t", kind="health")) == []
    scripted_agent = MonitorAgent(
        AgentContext(bus=InMemoryEventBus(), clock=sim_clock, extras={"collectors": [Scripted()]})
    )
    assert await scripted_agent.handle(Tick(ts=sim_clock.now(), source="t", kind="optimize")) == []


class Slow:
    """A collector whose round takes ``seconds`` of virtual time."""

    name = "slow"

    def __init__(self, clock: SimClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds

    async def collect(self, now: datetime) -> list[MetricPoint]:
        self.clock.advance(self.seconds)
        return [metric_point("probe_up", {"target": "slow"}, 1.0, now)]


async def test_a_tick_emitted_during_an_overrunning_round_is_coalesced(sim_clock: SimClock) -> None:
    agent = MonitorAgent(
        AgentContext(
            bus=InMemoryEventBus(), clock=sim_clock, extras={"collectors": [Slow(sim_clock, 45.0)]}
        )
    )
    start = sim_clock.now()
    rounds = []
    for offset_s in (0, 30, 60):  # the first round ends at 45 s: the 30 s tick came meanwhile
        produced = await agent.handle(
            Tick(ts=start + timedelta(seconds=offset_s), source="t", kind="health")
        )
        rounds.append(any(isinstance(event, MetricsCollected) for event in produced))
    assert rounds == [True, False, True]
    assert agent.coalesced == 1


async def test_an_alert_a_running_repair_explains_fires_inhibited_until_its_window_ends(
    sim_clock: SimClock,
) -> None:
    scripted = Scripted()
    agent = MonitorAgent(
        AgentContext(bus=InMemoryEventBus(), clock=sim_clock, extras={"collectors": [scripted]})
    )
    reset = expected_disturbance("reset_db_connections", "i1", "postgres", sim_clock.now(), 75)
    assert reset is not None
    await agent.handle(announcement(reset, "Repair"))
    _set(scripted, "http_5xx_per_s", 0.4, platform="b", endpoint="/x")
    _set(scripted, "host_cpu_percent", 95.0, platform="b", host="b1")

    def alerts(produced: list[Event]) -> dict[str, AlertRaised]:
        return {e.alertname: e for e in produced if isinstance(e, AlertRaised) and e.firing}

    first = alerts(await agent.handle(Tick(ts=sim_clock.now() + timedelta(seconds=30),
                                           source="t", kind="health")))  # fmt: skip
    assert "reset_db_connections" in first["ServerErrors"].inhibited_by
    assert first["ServerErrors"].annotations["metric"] == "http_5xx_per_s"
    assert first["HighCpu"].inhibited_by == ""  # not the repair's doing
    # still failing past the window (15 s + 75 s): the resend is a plain alert
    later = alerts(await agent.handle(Tick(ts=sim_clock.now() + timedelta(seconds=100),
                                           source="t", kind="health")))  # fmt: skip
    assert later["ServerErrors"].inhibited_by == ""
    assert later["ServerErrors"].correlation_id == first["ServerErrors"].correlation_id
