"""How long ``selfheal-ml demo`` takes, with and without a scoring worker, opt-in: -m benchmark.

Runs the demo's default schedule twice in this process, first with every series scored here
(``scoring_workers=0``, the baseline), then with one worker process scoring a share of them
(the demo's default), and prints both wall times and their ratio. The two runs must agree on
every figure of the report but the wall time: the worker changes where series are scored, not
what they score. ``SELFHEAL_DEMO_BENCH_DAYS`` shortens the runs (default: the demo's 7 days).

The wall times are the demo's own (``DemoResult.wall_time_s``: building the simulation, the
re-warm, the run, the scoring); starting the interpreter and logging to MLflow add a few
seconds to the command's total (``docs/benchmarks.md`` gives both).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selfheal_ml.config import load_settings
from selfheal_ml.demo import DemoOptions, run_demo

pytestmark = pytest.mark.benchmark


async def test_demo_wall_time_with_and_without_a_scoring_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    days = float(os.environ.get("SELFHEAL_DEMO_BENCH_DAYS", "7"))
    reports = {}
    for workers in (0, 1):
        options = DemoOptions(
            days=days,
            db_path=str(tmp_path / f"demo-{workers}.duckdb"),
            progress=False,
            scoring_workers=workers,
        )
        result = await run_demo(load_settings(), options)
        reports[workers] = result.report()
    alone, sharded = reports[0], reports[1]
    ratio = alone["wall_time_s"] / sharded["wall_time_s"]
    print(
        f"\ndemo, {days:g} simulated days, cpu_count={os.cpu_count()}:"
        f" one process {alone['wall_time_s']:.1f} s,"
        f" with a scoring worker {sharded['wall_time_s']:.1f} s (speed-up {ratio:.2f}x)"
    )
    for report in (alone, sharded):
        del report["wall_time_s"]
        report["dashboard"].pop("system", None)  # uptime
    assert sharded == alone
