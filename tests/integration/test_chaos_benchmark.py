"""``python pipelines/chaos_benchmark.py`` on a short run: the JSON report has every headline
key with sane values, and the MLflow run lands in experiment ``self-healing``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from tests.integration.pipeline_loading import load_pipeline

SCRIPT = Path(__file__).resolve().parents[2] / "pipelines" / "chaos_benchmark.py"
KEYS = (
    "faults_injected", "detection_rate", "mttd_median_s", "mttd_p95_s", "root_cause_accuracy",
    "first_repair_accuracy", "auto_resolution_rate", "mttr_median_s", "mttr_p95_s",
    "false_alarms_per_platform_day", "repairs_on_healthy", "loops_stopped", "escalations",
)  # fmt: skip


def test_short_chaos_run_reports_every_headline_figure(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    command = [
        sys.executable, str(SCRIPT), "--days", "0.5", "--faults", "2", "--seed", "11",
        "--warmup-days", "0.5", "--out", str(out), "--quiet", "--interval", "60",
    ]  # fmt: skip
    finished = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={"MLFLOW_TRACKING_URI": tracking, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(KEYS) <= set(report)
    assert report["faults_injected"] == 2
    for key in ("detection_rate", "root_cause_accuracy", "first_repair_accuracy",
                "auto_resolution_rate"):  # fmt: skip
        assert report[key] is None or 0.0 <= report[key] <= 1.0, key
    assert report["repairs_on_healthy"] >= 0 and report["escalations"] >= 0
    assert len(report["faults"]) == 2
    assert "false_alarms_per_platform_day" in finished.stdout
    mlflow.set_tracking_uri(tracking)
    runs = mlflow.search_runs(experiment_names=["self-healing"], output_format="list")
    assert len(runs) == 1 and "detection_rate" in runs[0].data.metrics


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--days", "14", "--faults", "200"], "--faults: too many for 14.0 days"),
        (["--days", "0"], "--days: expected a positive number, got 0.0"),
        (["--faults", "-3"], "--faults: expected a positive number, got -3"),
        (["--warmup-days", "-1"], "--warmup-days: expected zero or more days"),
        (["--days", "x"], "argument --days: invalid float value: 'x'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--attacks", "-1"], "--attacks: expected zero or more attacks, got -1"),
        (
            ["--days", "2", "--faults", "2", "--kinds", "memroy_leak"],
            "--kinds: unknown fault kind(s) memroy_leak",
        ),
    ],
)
def test_a_bad_argument_is_one_line_on_stderr_and_exit_2(
    arguments: list[str], named: str, tmp_path: Path
) -> None:
    command = [sys.executable, str(SCRIPT), *arguments, "--quiet", "--no-tracking",
               "--out", str(tmp_path / "chaos.json")]  # fmt: skip
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr[-2000:]
    assert lines[0].startswith("chaos_benchmark.py: error: ") and named in lines[0]
    assert not (tmp_path / "chaos.json").exists()


def test_default_interval_is_the_services_health_check_interval() -> None:
    """The benchmark measures the product as it runs: its checks come as often as the
    service's (time to detect is judged against one interval)."""
    from selfheal_ml.config import Intervals

    chaos = load_pipeline("chaos_benchmark")
    assert chaos.parse_args([]).interval == Intervals().health_check_s
