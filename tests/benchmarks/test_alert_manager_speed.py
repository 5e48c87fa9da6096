"""Benchmark: per-call cost of the AlertManager hot paths on a DuckDB file.

The demo replays 7 simulated days with a tick every 30 simulated seconds; each tick re-fires a
handful of alerts that are already firing and ``evaluate()`` runs about once a simulated
minute. This harness times, on one DuckDB file under a SimClock:

- repeat fire: ``fire()`` of an alert already firing with the same labels, annotations and
  severity, the clock advancing 30 s between calls (the demo's tick);
- evaluate: ``evaluate()`` after every tick, as the runtime does; most calls find nothing due
  (the median is the idle call), about one in ten is a group's ``group_interval`` look and
  one in five the lazy batch write of ``ends_at`` extensions (those make the p95 and mean);
- new-alert fire: ``fire()`` of a label set never seen before (a write-through insert).

Median, 95th percentile and mean per call are printed in milliseconds (the mean is the
amortised cost the demo pays). Asserted: repeat fire and evaluate median under 1 ms.
See docs/benchmarks.md.

Run: .venv/bin/pytest tests/benchmarks/test_alert_manager_speed.py -m benchmark -s \
    -p no:cacheprovider
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from tqdm import tqdm

from selfheal_ml.alerting import AlertManager, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

CALLS = 400
BUDGET_MS = 1.0
ANNOTATIONS = {"summary": "p95 latency above 2 s"}


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000.0


def summary(name: str, samples: list[float]) -> tuple[float, float]:
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    mean = statistics.fmean(samples)
    print(
        f"{name:>16}: median {median:8.3f} ms  p95 {p95:8.3f} ms  mean {mean:8.3f} ms"
        f"  ({len(samples)} calls)"
    )
    return median, p95


@pytest.mark.benchmark
def test_alert_manager_hot_paths(tmp_path: Path) -> None:
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    database = Database(tmp_path / "bench.duckdb")
    manager = AlertManager(AlertStore(database), clock, [RecordingNotifier()])
    labels = [{"alertname": "HighLatency", "platform": f"site-{i}"} for i in range(5)]
    for label_set in labels:
        manager.fire(label_set, ANNOTATIONS, "warning")
    clock.advance(30)
    manager.evaluate()  # first group flush: afterwards nothing is due for a while

    repeat: list[float] = []
    idle: list[float] = []
    for step in tqdm(range(CALLS), desc="repeat fire + idle evaluate"):
        clock.advance(30)
        label_set = labels[step % len(labels)]
        repeat.append(timed_ms(partial(manager.fire, label_set, ANNOTATIONS, "warning")))
        for other in labels:
            if other is not label_set:
                manager.fire(other, ANNOTATIONS, "warning")
        idle.append(timed_ms(manager.evaluate))

    new: list[float] = []
    for index in tqdm(range(CALLS // 4), desc="new-alert fire"):
        fresh = {"alertname": "DiskFull", "host": f"host-{index}"}
        new.append(timed_ms(partial(manager.fire, fresh, ANNOTATIONS, "critical")))

    print()
    repeat_median, _ = summary("repeat fire", repeat)
    idle_median, _ = summary("evaluate", idle)
    summary("new-alert fire", new)
    manager_close = getattr(manager, "close", None)
    if manager_close is not None:
        manager_close()
    database.close()
    assert repeat_median < BUDGET_MS
    assert idle_median < BUDGET_MS


@pytest.mark.benchmark
def test_alert_manager_replays_a_simulated_day(tmp_path: Path) -> None:
    """The demo's AlertManager load for one simulated day: wall time per day and per tick."""
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    database = Database(tmp_path / "replay.duckdb")
    manager = AlertManager(AlertStore(database), clock, [RecordingNotifier()])
    labels = [{"alertname": f"Alert{i % 2}", "platform": f"site-{i}"} for i in range(5)]
    ticks = 86_400 // 30
    started = time.perf_counter()
    for tick in tqdm(range(ticks), desc="replay 1 simulated day"):
        for label_set in labels:
            manager.fire(label_set, ANNOTATIONS, "warning")
        if tick % 2 == 1:  # evaluate about once a simulated minute
            manager.evaluate()
        clock.advance(30)
    manager.close()
    elapsed_s = time.perf_counter() - started
    print(
        f"\nreplay: {ticks} ticks x {len(labels)} repeat fires, {ticks // 2} evaluates:"
        f" {elapsed_s:.2f} s per simulated day ({elapsed_s / ticks * 1000:.3f} ms per tick),"
        f" so about {7 * elapsed_s:.1f} s of AlertManager time for a 7-day demo"
    )
    assert manager.counts().total == len(labels)
    database.close()
