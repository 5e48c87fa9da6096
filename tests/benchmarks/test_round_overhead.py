"""A round of 150 series x 1 point through the Predictive agent against the plain per-point
pipeline (issue 20), opt-in: ``-m benchmark -s``.

The plain baseline calls :meth:`SeriesScorer.process` for each point of the round in a loop
(the arithmetic: detector, calibration, gate, policy). The round path is the Predictive
agent's :meth:`handle` of one ``MetricsCollected``: filter, the sharded bank's round, verdicts,
score rows written to DuckDB (in-memory) through a worker thread, anomaly events. Both score
the same points with fresh state, in the same process; CPU time (``time.process_time``).

    .venv/bin/pytest tests/benchmarks/test_round_overhead.py -m benchmark -s
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.predictive import SCORING, PredictiveAgent
from selfheal_ml.anomaly import DetectorBank, SeriesScorer, default_detector
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import RealClock
from selfheal_ml.collectors.base import metric_point
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.storage import Database
from selfheal_ml.storage.anomalies import AnomalyStore

pytestmark = pytest.mark.benchmark

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ROUNDS = 200


def _rounds(series: int) -> tuple[np.ndarray, list[list[MetricPoint]]]:
    values = 100.0 + np.random.default_rng(0).normal(0.0, 3.0, (ROUNDS, series))
    rounds = [
        [
            metric_point(f"bench_gauge_{index}", {"target": f"t{index % 50}"},
                         float(values[step, index]), T0 + timedelta(seconds=30 * step))
            for index in range(series)
        ]
        for step in range(ROUNDS)
    ]  # fmt: skip
    return values, rounds


def plain_s(values: np.ndarray) -> float:
    scorers = [SeriesScorer(default_detector(), SCORING) for _ in range(values.shape[1])]
    started = time.process_time()
    for step in range(ROUNDS):
        ts_s = (T0 + timedelta(seconds=30 * step)).timestamp()
        for scorer, value in zip(scorers, values[step].tolist(), strict=True):
            scorer.process(ts_s, value)
    return (time.process_time() - started) / ROUNDS


async def agent_s(rounds: list[list[MetricPoint]]) -> float:
    database = Database(":memory:")
    agent = PredictiveAgent(
        AgentContext(
            bus=InMemoryEventBus(),
            clock=RealClock(),
            extras={
                "anomaly_store": AnomalyStore(database),
                "detector_bank": DetectorBank(config=SCORING),
            },
        )
    )
    started = time.process_time()
    for points in rounds:
        await agent.handle(MetricsCollected(ts=points[0].ts, source="bench", points=tuple(points)))
    elapsed = (time.process_time() - started) / ROUNDS
    database.close()
    return elapsed


@pytest.mark.parametrize("series", [150, 5000])
def test_round_against_the_plain_pipeline(series: int) -> None:
    values, rounds = _rounds(series)
    plain = plain_s(values)
    agent = asyncio.run(agent_s(rounds))
    print(
        f"\n{series} series x 1 point: plain {1000 * plain:.2f} ms, agent round"
        f" {1000 * agent:.2f} ms, ratio {agent / plain:.2f}x (acceptance at 150: <= 2x)"
    )
