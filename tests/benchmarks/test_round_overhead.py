"""A round of 150 series x 1 point through the Predictive agent against the plain per-point
pipeline (issue 20), opt-in: ``-m benchmark -s``.

The plain baseline calls :meth:`SeriesScorer.process` for each point of the round in a loop
(the arithmetic: detector, calibration, gate, policy). The round path is the Predictive
agent's :meth:`handle` of one ``MetricsCollected``: filter, the sharded bank's round, verdicts,
score rows written to DuckDB (in-memory) through a worker thread, anomaly events. Both score
the same points with fresh state, in the same process; CPU time (``time.process_time``, which
counts DuckDB's and the worker thread's CPU too). On a shared machine one pair of runs moved
by +-30 %, so the pair is repeated (plain, agent, plain, agent...) and the median of the pairs'
ratios is the figure, printed with the load average.

    .venv/bin/pytest tests/benchmarks/test_round_overhead.py -m benchmark -s
"""

from __future__ import annotations

import asyncio
import os
import statistics
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


@pytest.mark.parametrize(("series", "repeats"), [(150, 7), (5000, 2)])
def test_round_against_the_plain_pipeline(series: int, repeats: int) -> None:
    values, rounds = _rounds(series)
    pairs = [(plain_s(values), asyncio.run(agent_s(rounds))) for _ in range(repeats)]
    plain = statistics.median(p for p, _ in pairs)
    agent = statistics.median(a for _, a in pairs)
    ratios = sorted(a / p for p, a in pairs)
    print(
        f"\n{series} series x 1 point, {repeats} pairs, load {os.getloadavg()[0]:.2f}:"
        f" plain {1000 * plain:.2f} ms, agent round {1000 * agent:.2f} ms (medians),"
        f" ratio median {statistics.median(ratios):.2f}x"
        f" (range {ratios[0]:.2f}-{ratios[-1]:.2f}; acceptance at 150: <= 2x)"
    )
    assert all(p > 0 and a > 0 for p, a in pairs)
