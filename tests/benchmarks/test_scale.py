"""Cost of a monitoring round against the number of series and targets, and the 20,000-series
service with an anomaly storm (issue 20), opt-in: ``-m benchmark -s``.

Each configuration runs ``scale/scale_run.py`` (the whole service, every agent, the API served
and polled) against ``scale/bulk_exporter.py`` (another process), once on this checkout and once
on the baseline: the package as of ``SCALE_BASELINE_REV`` (default: the commit before issue
20's work), extracted with ``git archive`` and put first on ``PYTHONPATH``. Ratios are
this checkout's CPU per round over the baseline's, measured in the same run.

    .venv/bin/pytest tests/benchmarks/test_scale.py -m benchmark -s
    SCALE_CONFIGS=250x80 .venv/bin/pytest tests/benchmarks/test_scale.py -m benchmark -s -k cost
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

HERE = Path(__file__).parent / "scale"
REPO = Path(__file__).resolve().parents[2]
BASELINE_REV = os.environ.get("SCALE_BASELINE_REV", "dbbada8")
CONFIGS = os.environ.get("SCALE_CONFIGS", "10x5,50x20,100x50,250x80")
ROUNDS = int(os.environ.get("SCALE_ROUNDS", "5"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def baseline_source(folder: Path) -> Path:
    """The baseline's ``selfheal_ml`` package, extracted into ``folder`` (no checkout needed)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BASELINE_REV, "selfheal_ml"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run(targets: int, series: int, rounds: int, storm_rounds: int, code: Path | None) -> dict:
    """One ``scale_run.py`` against a fresh exporter; its JSON result."""
    port = _free_port()
    exporter = subprocess.Popen(
        [sys.executable, str(HERE / "bulk_exporter.py"), str(port), str(targets), str(series)]
    )
    try:
        time.sleep(1.0)
        env = dict(os.environ)
        if code is not None:
            env["PYTHONPATH"] = str(code)
        completed = subprocess.run(
            [sys.executable, str(HERE / "scale_run.py"), f"http://127.0.0.1:{port}",
             str(targets), str(series), str(rounds), str(storm_rounds)],
            env=env, capture_output=True, text=True, timeout=7200, check=True,
        )  # fmt: skip
    finally:
        exporter.terminate()
        exporter.wait(10)
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def test_round_cost_against_series_and_targets(tmp_path: Path) -> None:
    baseline = baseline_source(tmp_path)
    print(f"\nround cost, {ROUNDS} rounds each; baseline = {BASELINE_REV}")
    print("targets | series | CPU/round new | baseline | ratio | errors new / baseline | RSS new")
    for config in CONFIGS.split(","):
        targets, series = (int(part) for part in config.split("x"))
        new = run(targets, series, ROUNDS, 0, None)
        old = run(targets, series, ROUNDS, 0, baseline)
        assert new["code"] != old["code"]
        print(
            f"{targets} | {new['series']} | {new['cpu_per_round_s']:.3f} s"
            f" | {old['cpu_per_round_s']:.3f} s"
            f" | {new['cpu_per_round_s'] / old['cpu_per_round_s']:.2f}x"
            f" | {new['collector_errors']} / {old['collector_errors']}"
            f" | {new['rss_mb']:.0f} MB",
            flush=True,
        )


def test_service_at_20000_series_with_a_storm() -> None:
    rounds = int(os.environ.get("SCALE_STEADY_ROUNDS", "30"))
    result = run(250, 80, rounds, int(os.environ.get("SCALE_STORM_ROUNDS", "4")), None)
    print("\n" + json.dumps(result, indent=1))
    print(
        f"250 targets x 80 series: CPU {result['cpu_percent_at_30s']:.1f} % of one core at 30 s"
        f" (acceptance <= 25 %), RSS {result['rss_mb']:.0f} MB (<= 3 GB), collector errors"
        f" {result['collector_errors']} (0), scored per round {result['scored_per_round']:.0f},"
        f" series stored {result['series_stored']}; storm {result['storm_anomalies']} anomalies"
        f" in {result['storm_cpu_s']:.1f} CPU s (<= 60), /health max"
        f" {result['storm_health_max_s']:.2f} s in the storm, {result['health_max_s']:.2f} s"
        " before (< 1 s)"
    )


def storm(platforms: int, series: int, rounds: int, code: Path | None) -> dict:
    """One ``storm_run.py``; its JSON result."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    completed = subprocess.run(
        [sys.executable, str(HERE / "storm_run.py"), str(platforms), str(series), str(rounds)],
        env=env, capture_output=True, text=True, timeout=7200, check=True,
    )  # fmt: skip
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def test_storm_cost_through_the_diagnosis(tmp_path: Path) -> None:
    baseline = baseline_source(tmp_path)
    print(f"\nanomaly storm through Diagnostic + anomaly store; baseline = {BASELINE_REV}")
    for platforms, series, with_baseline in ((10, 80, True), (25, 80, True), (250, 80, False)):
        new = storm(platforms, series, 2, None)
        line = f"{new['anomalies']} anomalies: {new['storm_cpu_s']:.2f} CPU s"
        if with_baseline:
            old = storm(platforms, series, 2, baseline)
            ratio = new["storm_cpu_s"] / old["storm_cpu_s"]
            line += f", baseline {old['storm_cpu_s']:.2f} CPU s, ratio {ratio:.3f}x"
        print(line, flush=True)
