"""What a Predictive round stores and publishes, against a plain per-point reference (issue 20).

The agent's round is tuned for speed (one worker-thread hop, columns written in one batch);
this test pins its outputs on a fixed input so that tuning never changes them: every score
row stored in ``anomaly_scores``, every ``AnomalyDetected`` event and every ``anomaly_events``
row must equal what a straightforward loop over :meth:`DetectorBank.score` gives, point by
point. The input has spikes, drops where only a rise is trouble (good news: scored, not
raised), a guarded gauge, a non-finite value and a late point (both skipped), and rounds of
two timestamps, with rows written every round and batched.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.predictive import SCORING, PredictiveAgent
from selfheal_ml.anomaly import DetectorBank
from selfheal_ml.anomaly.alert_policy import anomaly_severity
from selfheal_ml.anomaly.explain import explain
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import AnomalyDetected, MetricPoint, MetricsCollected
from selfheal_ml.storage import Database
from selfheal_ml.storage.anomalies import AnomalyStore

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ROUNDS = 420
NAMES = [
    mc.HTTP_LATENCY_P95_MS,  # only a rise is trouble, per request
    mc.HOST_CPU_PERCENT,
    mc.CACHE_HIT_RATIO,  # a guarded gauge
    mc.HTTP_5XX_PER_S,
    mc.HOST_MEMORY_PERCENT,
]

Row = tuple[Any, ...]


def _series(index: int) -> tuple[str, dict[str, str]]:
    name = NAMES[index % len(NAMES)]
    labels = {"platform": f"p{index % 3}", "host": f"h{index}"}
    return f'{name}{{host="h{index}",platform="p{index % 3}"}}', labels


def _value(step: int, index: int, noise: float) -> float:
    name = NAMES[index % len(NAMES)]
    base = 0.9 if name == mc.CACHE_HIT_RATIO else 50.0 + index
    value = base + (0.01 if name == mc.CACHE_HIT_RATIO else 2.0) * noise
    if step in (360, 361) and index % 4 == 0:  # spikes
        value = base * 6.0
    if step == 380 and name == mc.HTTP_LATENCY_P95_MS:  # faster than usual: good news
        value = base * 0.05
    if step >= 395 and name == mc.CACHE_HIT_RATIO:  # the hit ratio falls and stays down
        value = 0.3
    return value


def _rounds() -> list[list[MetricPoint]]:
    """Fixed rounds of 12 series; round 200 has a NaN, round 300 a late point, every 50th
    round a second timestamp for half its points."""
    noise = np.random.default_rng(20).normal(0.0, 1.0, (ROUNDS, 12))
    rounds: list[list[MetricPoint]] = []
    for step in range(ROUNDS):
        ts = T0 + timedelta(seconds=30 * step)
        points = []
        for index in range(12):
            series, labels = _series(index)
            value = _value(step, index, float(noise[step, index]))
            at = ts + timedelta(seconds=5) if step % 50 == 0 and index % 2 else ts
            if step == 200 and index == 1:
                value = math.nan
            if step == 300 and index == 2:
                at = ts - timedelta(seconds=60)  # before this series' previous point
            points.append(MetricPoint(series=series, ts=at, value=value, labels=labels))
        rounds.append(points)
    return rounds


def _reference(rounds: list[list[MetricPoint]]) -> tuple[list[Row], list[Row]]:
    """Score rows and events as a plain loop over ``DetectorBank.score`` gives them."""
    bank = DetectorBank(config=SCORING)
    rows: list[Row] = []
    events: list[Row] = []
    for points in rounds:
        for point in points:
            try:
                verdict = bank.score(point.series, point.ts, point.value)
            except ValidationError:
                continue
            name = point.series.split("{", 1)[0]
            good_news = (
                verdict.expected_high is not None
                and point.value <= verdict.expected_high
                and name in mc.ONLY_RISES_MATTER
            )
            raised = verdict.is_anomaly and not good_news
            rows.append(
                (point.series, point.ts, point.value, verdict.score, verdict.calibrated, raised,
                 verdict.expected_low, verdict.expected_high)
            )  # fmt: skip
            if raised:
                events.append(
                    (point.series, point.ts, point.value, verdict.calibrated,
                     -1e308 if verdict.expected_low is None else verdict.expected_low,
                     1e308 if verdict.expected_high is None else verdict.expected_high,
                     verdict.component,
                     anomaly_severity(verdict.calibrated, name in mc.PER_REQUEST_METRICS),
                     dict(point.labels), explain(point.series, point.value, verdict))
                )  # fmt: skip
    return rows, events


def _event_row(event: AnomalyDetected) -> Row:
    return (
        event.series, event.ts, event.value, event.score, event.expected_low,
        event.expected_high, event.detector, event.severity, event.labels, event.explanation,
    )  # fmt: skip


@pytest.mark.parametrize("store_every_s", [0.0, 3600.0])
async def test_a_round_stores_and_publishes_what_the_per_point_loop_gives(
    tmp_path: Path, store_every_s: float
) -> None:
    rounds = _rounds()
    expected_rows, expected_events = _reference(rounds)
    database = Database(tmp_path / "round.duckdb")
    clock = SimClock(T0)
    agent = PredictiveAgent(
        AgentContext(
            bus=InMemoryEventBus(),
            clock=clock,
            extras={"anomaly_store": AnomalyStore(database), "store_every_s": store_every_s},
        )
    )
    published: list[AnomalyDetected] = []
    for points in rounds:
        clock.advance_to(max(point.ts for point in points))
        event = MetricsCollected(ts=clock.now(), source="test", points=tuple(points))
        published += [e for e in await agent.handle(event) if isinstance(e, AnomalyDetected)]
    await agent.stop()  # a batching writer flushes here
    with database.read() as conn:
        stored = conn.execute("SELECT * FROM anomaly_scores").fetchall()
        kept = conn.execute("SELECT * FROM anomaly_events").fetchall()
    database.close()

    assert len(expected_rows) == 12 * ROUNDS - 2  # the NaN and the late point are skipped
    assert 5 <= len(expected_events) < len(expected_rows) // 10  # the input raises a few
    assert sum(1 for row in expected_rows if row[0].startswith(mc.CACHE_HIT_RATIO) and row[5])
    assert stored == expected_rows  # same rows, same order, same values and NULLs
    assert [_event_row(event) for event in published] == expected_events
    assert kept == [
        (e.event_id, e.series, e.ts, e.value, e.score, row[6], row[7], e.detector,
         e.correlation_id)
        for e, row in zip(published, [r for r in expected_rows if r[5]], strict=True)
    ]  # fmt: skip
    assert (agent.scored, agent.anomalies) == (len(expected_rows), len(expected_events))
