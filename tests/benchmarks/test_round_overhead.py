"""A round of 150 series x 1 point through the Predictive agent against the plain per-point
pipeline (issue 20), opt-in: ``-m benchmark -s``.

The plain baseline calls :meth:`SeriesScorer.process` for each point of the round in a loop (the
arithmetic: detector, calibration, gate, policy). The round path is the Predictive agent's
:meth:`handle` of one ``MetricsCollected``: filter, the sharded bank's round, verdicts, score rows
written to DuckDB (in memory, or a file with the service's settings) in a worker thread (a round of
at most ``INLINE_ROUND_POINTS`` is scored on the event loop, a larger one in that thread too),
anomaly events. Both score the same points in the same process, either from fresh state (the 200
rounds are then the detectors' warm-up) or from 2,000 replayed points per series (``warm``: a
running service's state); CPU time (``time.process_time``, which counts DuckDB's and the worker
thread's CPU too). On a shared machine one pair of runs moved by +-30 %, so the pair is repeated
(plain, agent, plain, agent...) and the median of the pairs' ratios is the figure, printed with the
load average.

    .venv/bin/pytest tests/benchmarks/test_round_overhead.py -m benchmark -s
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.predictive import SCORING, PredictiveAgent
from selfheal_ml.anomaly import DetectorBank, SeriesScorer, default_detector
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import RealClock
from selfheal_ml.collectors.base import metric_point
from selfheal_ml.config import Settings
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.storage import Database
from selfheal_ml.storage.anomalies import AnomalyStore

pytestmark = pytest.mark.benchmark

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ROUNDS = 200
HISTORY = 2000


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


def warm_bank(series: int) -> DetectorBank:
    """A bank whose series have 2,000 points of history each (replayed), as a running service's
    are after its start-up re-warm; the names are those of :func:`_rounds`."""
    bank = DetectorBank(config=SCORING)
    history = 100.0 + np.random.default_rng(1).normal(0.0, 3.0, (HISTORY, series))
    stamps = T0.timestamp() - 30.0 * np.arange(HISTORY, 0, -1)
    for index, name in enumerate(_names(series)):
        bank.replay(name, history[:, index], stamps)
    return bank


def plain_s(values: np.ndarray, warm: bool = False) -> float:
    if warm:
        bank = warm_bank(values.shape[1])
        scorers = [bank.scorers([name])[name] for name in _names(values.shape[1])]
    else:
        scorers = [SeriesScorer(default_detector(), SCORING) for _ in range(values.shape[1])]
    started = time.process_time()
    for step in range(ROUNDS):
        ts_s = (T0 + timedelta(seconds=30 * step)).timestamp()
        for scorer, value in zip(scorers, values[step].tolist(), strict=True):
            scorer.process(ts_s, value)
    return (time.process_time() - started) / ROUNDS


def _names(series: int) -> list[str]:
    return [
        metric_point(f"bench_gauge_{index}", {"target": f"t{index % 50}"}, 0.0, T0).series
        for index in range(series)
    ]


def _database(path: Path | None) -> Database:
    """In memory, or a DuckDB file with the service's settings (``Settings()``'s defaults)."""
    if path is None:
        return Database(":memory:")
    settings = Settings()
    return Database(
        path,
        memory_limit_mb=settings.db_memory_limit_mb,
        allocator_background_threads=settings.db_allocator_background_threads,
        checkpoint_threshold_mb=settings.db_checkpoint_threshold_mb,
    )


async def agent_s(
    rounds: list[list[MetricPoint]], warm: bool = False, path: Path | None = None
) -> float:
    database = _database(path)
    bank = warm_bank(len(rounds[0])) if warm else DetectorBank(config=SCORING)
    agent = PredictiveAgent(
        AgentContext(
            bus=InMemoryEventBus(),
            clock=RealClock(),
            extras={"anomaly_store": AnomalyStore(database), "detector_bank": bank},
        )
    )
    started = time.process_time()
    for points in rounds:
        await agent.handle(MetricsCollected(ts=points[0].ts, source="bench", points=tuple(points)))
    elapsed = (time.process_time() - started) / ROUNDS
    database.close()
    return elapsed


@pytest.mark.parametrize(
    ("series", "repeats", "state", "storage"),
    [
        (150, 7, "fresh", "memory"),
        (150, 5, "warm", "memory"),
        (150, 5, "fresh", "file"),
        (150, 5, "warm", "file"),
        (5000, 2, "fresh", "memory"),
    ],
)
def test_round_against_the_plain_pipeline(
    series: int, repeats: int, state: str, storage: str, tmp_path: Path
) -> None:
    """``fresh``: both start from empty state, so the 200 rounds are the detectors' warm-up;
    ``warm``: both start from 2,000 replayed points per series (a running service's state).
    ``file``: the score rows go to a DuckDB file with the service's settings, as in ``serve``
    (a new file per pair), instead of an in-memory database."""
    values, rounds = _rounds(series)
    warm = state == "warm"

    def path(pair: int) -> Path | None:
        return tmp_path / f"round-{pair}.duckdb" if storage == "file" else None

    pairs = [
        (plain_s(values, warm), asyncio.run(agent_s(rounds, warm, path(pair))))
        for pair in range(repeats)
    ]
    plain = statistics.median(p for p, _ in pairs)
    agent = statistics.median(a for _, a in pairs)
    ratios = sorted(a / p for p, a in pairs)
    print(
        f"\n{series} series x 1 point ({state}, {storage}), {repeats} pairs,"
        f" load {os.getloadavg()[0]:.2f}:"
        f" plain {1000 * plain:.2f} ms, agent round {1000 * agent:.2f} ms (medians),"
        f" ratio median {statistics.median(ratios):.2f}x"
        f" (range {ratios[0]:.2f}-{ratios[-1]:.2f}; acceptance at 150: <= 2x)"
    )
    assert all(p > 0 and a > 0 for p, a in pairs)
