"""The Predictive agent driven the way the live service drives it (issue 12).

Live, the Monitor scrapes every 5 s and the service may start with an empty DuckDB file, or
restart with a little or a lot of history. These tests replay that: healthy rounds for a few
minutes after the start, then a database outage. They check that the outage is named within a
couple of minutes whatever the history (before the cold-start stage a fresh service stayed
blind for 300 points, 25 minutes at 5 s), that a healthy start raises nothing in its first
five minutes, and that history only warms the detectors: a point from before the start never
becomes an anomaly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.predictive import PredictiveAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import AnomalyDetected, MetricPoint, MetricsCollected
from selfheal_ml.storage import Database
from selfheal_ml.storage.anomalies import AnomalyStore
from selfheal_ml.storage.metrics import MetricsStore

INTERVAL_S = 5.0
TAG = 'platform="leadsite.ai",target="leadsite.ai"'
DB_UP = f'db_up{{dependency="postgres",{TAG}}}'
DB_CONNECTIONS = f'db_connections_in_use{{dependency="postgres",{TAG}}}'
LATENCY = f'http_request_duration_seconds_p95{{endpoint="/api/leads",{TAG}}}'
ERRORS_5XX = f'http_requests_per_second{{endpoint="/api/leads",status_class="5xx",{TAG}}}'
OUTAGE_SERIES = (DB_UP, DB_CONNECTIONS, LATENCY)

Round = dict[str, float]


def healthy_round(rng: np.random.Generator, step: int) -> Round:
    """One scrape of a healthy platform: flat, noisy, heavy-tailed and count-like series."""
    values: Round = {
        DB_UP: 1.0,
        DB_CONNECTIONS: 14.2 + rng.normal(0, 0.05),
        LATENCY: 0.18 * rng.lognormal(0, 0.08),
        ERRORS_5XX: 0.0,
        f"probe_latency_ms{{{TAG}}}": 270.0 * rng.lognormal(0, 0.3),
        f"scrape_duration_ms{{{TAG}}}": 8.0 * rng.lognormal(0, 0.5),
        f"background_job_queue_depth{{{TAG}}}": float(rng.poisson(2)),
        f"background_job_last_success_age_s{{{TAG}}}": float((step * INTERVAL_S) % 120),
    }
    for index in range(20):
        values[f'http_requests_per_second{{endpoint="/e{index}",{TAG}}}'] = float(
            rng.normal(50 + index, 3)
        )
    return values


def outage_round(rng: np.random.Generator, step: int) -> Round:
    """The same scrape while the platform's database is unreachable."""
    values = healthy_round(rng, step)
    values.update({DB_UP: 0.0, DB_CONNECTIONS: 0.0, LATENCY: 4.95, ERRORS_5XX: 12.0})
    return values


def _context(database: Database, clock: SimClock) -> AgentContext:
    return AgentContext(
        bus=InMemoryEventBus(),
        clock=clock,
        metrics=MetricsStore(database, clock),
        database=database,
        extras={"anomaly_store": AnomalyStore(database)},
    )


def _event(clock: SimClock, values: Round) -> MetricsCollected:
    points = tuple(
        MetricPoint(series=series, ts=clock.now(), value=value) for series, value in values.items()
    )
    return MetricsCollected(ts=clock.now(), source="Monitor", points=points)


def _store_history(
    context: AgentContext, clock: SimClock, rng: np.random.Generator, points: int,
    make: Callable[[np.random.Generator, int], Round] = healthy_round,
) -> None:  # fmt: skip
    """``points`` rounds of history ending one interval before now, as the Monitor stores them."""
    assert context.metrics is not None
    start = clock.now() - timedelta(seconds=INTERVAL_S * points)
    stored = [
        MetricPoint(series=series, ts=start + timedelta(seconds=INTERVAL_S * step), value=value)
        for step in range(points)
        for series, value in make(rng, step).items()
    ]
    context.metrics.append_points(stored)


async def _run(
    agent: PredictiveAgent,
    clock: SimClock,
    rng: np.random.Generator,
    rounds: int,
    make: Callable[[np.random.Generator, int], Round],
) -> list[AnomalyDetected]:
    """``rounds`` scrapes, one every 5 s; the anomalies they raised."""
    raised: list[AnomalyDetected] = []
    for step in range(rounds):
        clock.advance(INTERVAL_S)
        produced = await agent.handle(_event(clock, make(rng, step)))
        raised += [event for event in produced if isinstance(event, AnomalyDetected)]
    return raised


async def _started(
    database: Database, clock: SimClock, history_points: int, seed: int
) -> tuple[PredictiveAgent, np.random.Generator]:
    """A started agent over ``history_points`` stored rounds of healthy history, and the rng."""
    context = _context(database, clock)
    rng = np.random.default_rng(seed)
    _store_history(context, clock, rng, history_points)
    agent = PredictiveAgent(context)
    await agent.start()
    return agent, rng


@pytest.mark.parametrize("history_points", [0, 30, 720], ids=["cold", "2.5-min", "1-hour"])
@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_a_database_outage_is_named_minutes_after_a_start(
    db_path: Path, sim_clock: SimClock, history_points: int, seed: int
) -> None:
    database = Database(db_path)
    agent, rng = await _started(database, sim_clock, history_points, seed)

    healthy = await _run(agent, sim_clock, rng, 36, healthy_round)  # 3 minutes
    outage = await _run(agent, sim_clock, rng, 24, outage_round)  # 2 minutes

    assert healthy == []
    assert {event.series for event in outage} >= set(OUTAGE_SERIES)
    await agent.stop()
    database.close()


@pytest.mark.parametrize("history_points", [0, 30, 720], ids=["cold", "2.5-min", "1-hour"])
@pytest.mark.parametrize("seed", [3, 4, 5, 6])
async def test_a_healthy_start_is_quiet_for_five_minutes(
    db_path: Path, sim_clock: SimClock, history_points: int, seed: int
) -> None:
    database = Database(db_path)
    agent, rng = await _started(database, sim_clock, history_points, seed)

    assert await _run(agent, sim_clock, rng, 60, healthy_round) == []
    await agent.stop()
    database.close()


@pytest.mark.parametrize("history_points", [40, 720], ids=["short", "1-hour"])
async def test_history_warms_but_never_fires(
    db_path: Path, sim_clock: SimClock, history_points: int
) -> None:
    """An outage that was still going on when the history ends warms the detectors but raises
    nothing: not at the start, not on the healthy points after it, nothing stored."""
    database = Database(db_path)
    context = _context(database, sim_clock)
    rng = np.random.default_rng(7)

    def outage_at_the_end(rng: np.random.Generator, step: int) -> Round:
        late = step >= history_points - 10
        return outage_round(rng, step) if late else healthy_round(rng, step)

    _store_history(context, sim_clock, rng, history_points, outage_at_the_end)
    agent = PredictiveAgent(context)
    await agent.start()
    assert set(agent.bank.series()) >= set(OUTAGE_SERIES)  # warmed from the history

    assert await _run(agent, sim_clock, rng, 60, healthy_round) == []
    await agent.stop()
    assert AnomalyStore(database).recent() == []
    database.close()
