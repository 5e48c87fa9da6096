"""CPU per collection round of the demo's Monitor: the service's probes and scrapes (opt-in).

One round is what ``serve`` does against ``sim serve`` every health check: a probe and a
scrape per platform and a scrape per shared dependency, through the pooled HTTP client, the
exposition parser, the counter and histogram conversion and the canonical series, answered
in process by ``SimulatorTransport`` (the simulator advancing a minute between rounds is
included). The demo runs 12,960 such rounds (2 days of history, then 7 days), so a
millisecond here is 13 s of the demo's CPU.

Prints the CPU (``time.process_time``) per round and a digest of every point produced, so
that two trees compare both cost and output with the same command::

    PYTHONPATH=<tree> .venv/bin/python -m pytest -m benchmark -s -p no:cacheprovider \\
        tests/benchmarks/test_collection_round_speed.py
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from datetime import UTC, datetime

import pytest

from selfheal_ml.collectors import collect_all
from selfheal_ml.events import MetricPoint
from selfheal_ml.ports import simulator_collectors
from selfheal_ml.sim import PlatformSimulator

pytestmark = pytest.mark.benchmark

ROUNDS = int(os.environ.get("SELFHEAL_ROUND_BENCH_ROUNDS", "300"))
WARM_ROUNDS = 20  # clients built, counters primed, caches filled: the steady state is timed


def _rounds(count: int) -> tuple[list[list[MetricPoint]], float]:
    """``count`` rounds after the warm ones, and their CPU seconds."""
    simulator = PlatformSimulator(seed=42, start=datetime(2026, 1, 5, tzinfo=UTC))
    collectors = simulator_collectors(simulator)

    async def run(rounds: int) -> list[list[MetricPoint]]:
        produced = []
        for _ in range(rounds):
            simulator.advance(60.0)
            result = await collect_all(collectors, simulator.now(), timeout_s=5.0)
            produced.append(result.points)
        return produced

    async def warm_then_time() -> tuple[list[list[MetricPoint]], float]:
        await run(WARM_ROUNDS)
        began = time.process_time()
        produced = await run(count)
        return produced, time.process_time() - began

    return asyncio.run(warm_then_time())


def _digest(rounds: list[list[MetricPoint]]) -> str:
    text = repr([(p.series, p.ts, p.value, sorted(p.labels.items())) for r in rounds for p in r])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_cpu_per_collection_round() -> None:
    rounds, cpu_s = _rounds(ROUNDS)
    points = rounds[-1]
    print(
        f"\ncollection round (5 probes, 7 scrapes): {cpu_s / ROUNDS * 1000.0:.2f} ms CPU,"
        f" {len(points)} points; digest of all {ROUNDS} rounds {_digest(rounds)};"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    assert all(len(r) == len(points) for r in rounds)  # every round reads every series
    assert all(math.isfinite(point.value) for point in points)
    up = [p.value for p in points if p.series.startswith(("probe_up", "scrape_up"))]
    assert up and all(value == 1.0 for value in up)  # nothing failed: the full path was timed
