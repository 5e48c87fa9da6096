"""Benchmark: points/s of two Predictive scorer processes against one, on a replay of many series.

``SERIES`` series (random walks with noise) over ``ROUNDS`` collection rounds are published on
the Redis bus as ``MetricsCollected`` events, after the scorers' consumer groups exist. Each run
starts ``N`` scorer processes (``selfheal-ml agent run Predictive --partition K/N``, each with
its own DuckDB file and a stream prefix of the run's own) and times from the first publish until
every scorer group has read and acknowledged every round (scored, scores stored, bank
checkpointed). Printed: points/s of each run, the ratio 2/1 and the load average before and
after (the machine is shared, so the ratio is only as good as the free cores). Asserted: each
run scored every round; the 1.6x target is printed against the measured ratio, not asserted.

On a loaded machine the wall-clock ratio measures the run queue, not the design, so the CPU
time of each scorer process over the same span (``/proc/PID/stat``) is printed too: points per
CPU second of the busiest scorer (the rate the run would reach with a free core per scorer and
the CPU as the bottleneck) and its ratio 2/1, with the CPU seconds per 1000 points summed over
the scorers (the cost of partitioning: work done twice, or checkpoints of both halves).

Run: .venv/bin/pytest tests/benchmarks/test_scorer_scaling.py -m benchmark -s -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import redis

from selfheal_ml.bus import RedisStreamsEventBus
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.live.cluster import spawn_agent
from selfheal_ml.live.stack import ServerProcess

pytestmark = pytest.mark.benchmark

REDIS_URL = os.environ.get("SELFHEAL_TEST_REDIS", "redis://127.0.0.1:6379/0")
SERIES = 400
ROUNDS = 60
TARGET_RATIO = 1.6
START = datetime(2026, 1, 5, tzinfo=UTC)


def rounds() -> list[MetricsCollected]:
    rng = np.random.default_rng(7)
    walks = 100.0 + np.cumsum(rng.normal(0, 1, (ROUNDS, SERIES)), axis=0)
    names = [
        f'http_latency_ms{{endpoint="/e{i % 20}",platform="p{i // 20}"}}' for i in range(SERIES)
    ]
    events = []
    for step in range(ROUNDS):
        ts = START + timedelta(seconds=5 * step)
        points = tuple(
            MetricPoint(series=name, ts=ts, value=float(walks[step, index]))
            for index, name in enumerate(names)
        )
        events.append(MetricsCollected(ts=ts, source="bench", points=points))
    return events


def groups(client: redis.Redis, prefix: str) -> dict[str, dict[str, object]]:
    stream = f"{prefix}:system.metric"
    if not client.exists(stream):
        return {}
    return {group["name"].decode(): group for group in client.xinfo_groups(stream)}


def wait(condition: object, timeout_s: float, processes: list[ServerProcess]) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if any(process.process.poll() is not None for process in processes):
            codes = [process.process.returncode for process in processes]
            pytest.fail(
                f"a scorer exited {codes}:\n" + "\n".join(p.log_tail(2000) for p in processes)
            )
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail("timed out:\n" + "\n".join(p.log_tail(2000) for p in processes))


async def publish(prefix: str, events: list[MetricsCollected]) -> None:
    bus = RedisStreamsEventBus(REDIS_URL, prefix=prefix)
    await bus.start()
    for event in events:
        await bus.publish(event)
    await bus.stop()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One run: points/s on the wall clock, and the CPU seconds of each scorer meanwhile."""

    points_per_s: float
    cpu_s: tuple[float, ...]

    @property
    def points_per_busiest_cpu_s(self) -> float:
        return SERIES * ROUNDS / max(self.cpu_s)

    @property
    def cpu_s_per_1000_points(self) -> float:
        return 1000.0 * sum(self.cpu_s) / (SERIES * ROUNDS)


def points_per_s(scorers: int, events: list[MetricsCollected], workdir: Path) -> Run:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    names = [f"Predictive:MetricsCollected:p{k}of{scorers}" for k in range(scorers)]
    processes = []
    try:
        for index in range(scorers):
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_")},
                "SELFHEAL_BUS": REDIS_URL,
                "SELFHEAL_BUS_PREFIX": prefix,
                "SELFHEAL_DB": str(workdir / f"{prefix}-{index}.duckdb"),
                "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
            }
            args = ["Predictive", "--partition", f"{index}/{scorers}"]
            processes.append(spawn_agent(f"{prefix}-{index}", args, workdir, env))
        wait(lambda: set(names) <= set(groups(client, prefix)), 300, processes)
        cpu_before = [cpu_seconds(process.process.pid) for process in processes]
        started = time.perf_counter()
        asyncio.run(publish(prefix, events))
        last = client.xinfo_stream(f"{prefix}:system.metric")["last-generated-id"]

        def done() -> bool:
            return all(
                not group["pending"] and group["last-delivered-id"] == last
                for name, group in groups(client, prefix).items()
                if name in names
            )

        wait(done, 900, processes)
        elapsed = time.perf_counter() - started
        cpu = tuple(
            cpu_seconds(process.process.pid) - before
            for process, before in zip(processes, cpu_before, strict=True)
        )
    finally:
        for process in processes:
            process.stop()
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    return Run(SERIES * ROUNDS / elapsed, cpu)


def test_two_scorers_against_one(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    events = rounds()
    load_before = os.getloadavg()
    one = points_per_s(1, events, tmp_path)
    two = points_per_s(2, events, tmp_path)
    load_after = os.getloadavg()
    print(
        f"\nscoring {SERIES} series x {ROUNDS} rounds over the Redis bus "
        f"(load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, "
        f"{os.cpu_count()} cores):\n"
        f"  wall clock: 1 scorer {one.points_per_s:,.0f} points/s, 2 scorers "
        f"{two.points_per_s:,.0f} points/s, ratio {two.points_per_s / one.points_per_s:.2f}x "
        f"(target {TARGET_RATIO}x)\n"
        f"  CPU time: scorer CPU s {[round(value, 1) for value in one.cpu_s]} and "
        f"{[round(value, 1) for value in two.cpu_s]}; points per CPU s of the busiest scorer "
        f"{one.points_per_busiest_cpu_s:,.0f} and {two.points_per_busiest_cpu_s:,.0f}, ratio "
        f"{two.points_per_busiest_cpu_s / one.points_per_busiest_cpu_s:.2f}x; CPU s per 1000 "
        f"points, all scorers: {one.cpu_s_per_1000_points:.2f} and "
        f"{two.cpu_s_per_1000_points:.2f}"
    )
