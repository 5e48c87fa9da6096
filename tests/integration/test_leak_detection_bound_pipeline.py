"""``pipelines/leak_detection_bound.py``: the bound's table, and a hand-made report's leaks
counted against it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.pipeline_loading import load_pipeline

START = datetime(2026, 1, 5, tzinfo=UTC)


def fault(kind: str, detect_s: float | None, repair_s: float | None) -> dict[str, object]:
    def at(seconds: float | None) -> str | None:
        return None if seconds is None else (START + timedelta(seconds=seconds)).isoformat()

    return {
        "kind": kind,
        "injected_at": START.isoformat(),
        "detected_at": at(detect_s),
        "resolved_at": at(repair_s),
        "resolved_by": "restart_service" if repair_s is not None else "expired",
    }


def test_the_table_and_a_reports_leaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faults = [fault("service_crash", 20.0, 80.0)] * 36 + [
        fault("memory_leak", 1200.0, 1260.0),
        fault("memory_leak", 500.0, 570.0),
        fault("memory_leak", None, None),
        fault("memory_leak", 2000.0, 2065.0),
        fault("disk_filling", 90.0, 150.0),
    ]
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"seed": 9, "faults": faults}))
    module = load_pipeline("leak_detection_bound")
    picture = tmp_path / "bound.png"
    arguments = ["--report", str(report), "--horizons", "300,600,1800", "--plot", str(picture)]
    assert module.main(arguments) == 0
    assert picture.read_bytes().startswith(b"\x89PNG")
    out = capsys.readouterr().out
    assert "| 300 | 1.26 / 1.26 |" in out
    assert "most noticed by 300 s, mean 100.0%" in out
    assert "4 leaks of 41 faults" in out
    assert "T 600 s: 1/4 (25.0%)" in out
    assert "T 1,800 s: 2/4 (50.0%)" in out
    assert "quickest notice-to-repair of a leak was 60 s" in out
    assert "filling disks noticed by 300 s: 1/1 (100.0%)" in out
    assert "the other 37 faults: time to detect p95 20 s, time to repair p95 80 s" in out


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--step", "0"], "--step"),
        (["--horizons", "300,soon"], "--horizons"),
        (["--report", "no-such-report.json"], "--report"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load_pipeline("leak_detection_bound")
    with pytest.raises(SystemExit) as exit_info:
        module.main(arguments)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


def test_a_file_that_is_not_a_report_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load_pipeline("leak_detection_bound")
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    arguments = ["--report", str(other)]
    with pytest.raises(SystemExit) as exit_info:
        module.main(arguments)
    assert exit_info.value.code == 2
    assert "is not a chaos benchmark" in capsys.readouterr().err
