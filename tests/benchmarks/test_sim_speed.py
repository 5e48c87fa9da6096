"""Simulated-time speed-up of the platform simulator (five platforms), opt-in: -m benchmark.

Prints simulated seconds per wall second for: the bulk path (``run_schedule`` recording every
series as a numpy row, a week at a 30 s step with a fault schedule), the MetricPoint path
(``advance`` + ``observe`` every 30 s, one simulated day), and the Prometheus rendering.
Results go to docs/benchmarks.md by hand, with the command that produced them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from tqdm import tqdm

from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.schedule import FaultSchedule, run_schedule

pytestmark = pytest.mark.benchmark

START = datetime(2026, 1, 5, tzinfo=UTC)
WEEK_S = 7 * 86400.0
DAY_S = 86400.0
STEP_S = 30.0


def test_week_bulk_run_speedup() -> None:
    sim = PlatformSimulator(seed=42, start=START)
    schedule = FaultSchedule.random(seed=42, days=7, n_faults=12)
    steps = int(WEEK_S / STEP_S)
    with tqdm(total=7 * 24, desc="simulated week", unit="h", mininterval=1.0) as bar:

        def show(simulator: PlatformSimulator) -> None:
            bar.update(int(simulator.elapsed_s // 3600) - bar.n)

        began = time.perf_counter()
        run = run_schedule(sim, schedule, WEEK_S, on_chunk=show)
        wall_s = time.perf_counter() - began
    speedup = WEEK_S / wall_s
    print(
        f"\nbulk week: {steps} steps x {run.values.shape[1]} series in {wall_s:.2f} s wall, "
        f"{speedup:,.0f} simulated s per wall s, {len(run.faults)} faults"
    )
    assert run.values.shape == (steps, len(sim.catalogue.keys))
    assert speedup > 100_000  # a week in under ~6 s even on a loaded 2-core machine


def test_day_with_metric_points_speedup() -> None:
    sim = PlatformSimulator(seed=42, start=START)
    steps = int(DAY_S / STEP_S)
    points = 0
    advance_s = observe_s = 0.0
    for _ in tqdm(range(steps), desc="simulated day + observe", mininterval=1.0):
        began = time.perf_counter()
        sim.advance(STEP_S)
        middle = time.perf_counter()
        points += len(sim.observe())
        advance_s += middle - began
        observe_s += time.perf_counter() - middle
    wall_s = advance_s + observe_s
    print(
        f"\nobserve day: {points} MetricPoints in {wall_s:.2f} s wall "
        f"(advance {advance_s / steps * 1e6:.0f} us/step, observe {observe_s / steps * 1e6:.0f} "
        f"us/step), {DAY_S / wall_s:,.0f} simulated s per wall s"
    )
    assert points == steps * len(sim.catalogue.keys)


def test_prometheus_text_render_time() -> None:
    sim = PlatformSimulator(seed=42, start=START)
    sim.advance(3600.0)
    rounds = 200
    began = time.perf_counter()
    for _ in range(rounds):
        text = sim.prometheus_text()
    per_render_ms = (time.perf_counter() - began) / rounds * 1000.0
    print(f"\nprometheus_text (all platforms, {len(text)} bytes): {per_render_ms:.2f} ms/render")
    assert per_render_ms < 100.0
