"""``selfheal-ml demo`` end to end on a short run: the report, the summary and the files left."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from selfheal_ml.cli import main


def test_short_demo_writes_report_and_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    report_path = tmp_path / "report.json"
    db_path = tmp_path / "demo.duckdb"
    code = main(
        ["demo", "--days", "0.25", "--faults", "1", "--seed", "5", "--warmup-days", "0.5",
         "--report", str(report_path), "--db", str(db_path)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "faults injected 1" in printed
    assert "experiment 'selfheal-demo'" in printed
    report = json.loads(report_path.read_text())
    assert report["faults_injected"] == 1
    fault = report["faults"][0]
    assert {"kind", "platform", "injected_at", "detected_at", "resolved_at", "resolved_by"} <= set(
        fault
    )
    assert set(report["dashboard"]) == {"system", "agents", "health", "alerts", "repairs"}
    # the closed loop's headline figures, as the chaos benchmark reports them
    for key in (
        "incidents",
        "root_cause_accuracy",
        "first_repair_accuracy",
        "auto_resolution_rate",
        "mttr_median_s",
        "repairs_on_healthy",
        "escalations",
    ):
        assert key in report, key  # fmt: skip
    assert "root cause right" in printed and "repairs executed" in printed
    # the table says what its columns mean; its alert total is the dashboard's
    assert "Every time below is simulated" in printed and "after the injection" in printed
    total = report["dashboard"]["alerts"]["total"]
    assert f"alerts raised by the AlertManager: {total} (the dashboard's alerts.total)" in printed
    assert "shipped rules and playbooks" in printed  # not the local @champion: not asked
    assert report["repair_model_version"] is None
    rate = report["dashboard"]["repairs"]["successRate"]
    assert rate is None or (rate.endswith("%") and rate[:-1].isdigit())
    with duckdb.connect(str(db_path), read_only=True) as conn:
        stored = conn.execute("SELECT count(*) FROM metric_points").fetchone()
    assert stored is not None and stored[0] > 0


@pytest.mark.parametrize("flag", ["--days", "--faults", "--interval"])
def test_demo_refuses_non_positive_values(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", flag, "0"]) == 2
    assert flag in capsys.readouterr().err


def test_demo_refuses_a_negative_approval_delay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--approve-after", "-1"]) == 2
    assert "--approve-after" in capsys.readouterr().err
