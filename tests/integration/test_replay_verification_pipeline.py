"""``pipelines/replay_verification.py`` on a hand-made report and store: a repair that ended
its fault at night is judged "did not work" against the detector's narrow band and "worked"
against the band widened to the healthy night; one that did not end its fault stays "did not
work"; an alert that cleared is judged the same both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "pipelines/replay_verification.py"
LATENCY = 'http_latency_p95_ms{endpoint="/login",platform="a"}'
NIGHT = datetime(2026, 1, 20, 3, 20, tzinfo=UTC)


def band_diagnosis(low: float, high: float) -> str:
    trigger = {"kind": "range", "key": LATENCY, "low": low, "high": high}
    return json.dumps({"triggers": [trigger]})


def alert_diagnosis() -> str:
    return json.dumps({"triggers": [{"kind": "alert", "key": "DbDown{target=postgres}"}]})


def write_store(path: Path) -> None:
    fixed_at, stuck_at, alert_at = NIGHT, NIGHT + timedelta(hours=1), NIGHT + timedelta(hours=2)
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE repair_audit (ts TIMESTAMPTZ, incident_id VARCHAR, action VARCHAR,"
            " target VARCHAR, decision VARCHAR, outcome VARCHAR, finished_at TIMESTAMPTZ)"
        )
        connection.executemany(
            "INSERT INTO repair_audit VALUES (?, ?, ?, ?, 'executed', 'did_not_work', ?)",
            [
                (fixed_at, "i1", "scale_out", "a", fixed_at + timedelta(seconds=600)),
                (stuck_at, "i2", "restart_service", "a", stuck_at + timedelta(seconds=300)),
            ],
        )
        connection.execute(
            "INSERT INTO repair_audit VALUES (?, 'i3', 'reset_db_connections', 'postgres',"
            " 'executed', 'worked', ?)",
            [alert_at, alert_at + timedelta(seconds=90)],
        )
        connection.execute(
            "CREATE TABLE incident_revisions (incident_id VARCHAR, revision INTEGER,"
            " ts TIMESTAMPTZ, diagnosis JSON)"
        )
        connection.executemany(
            "INSERT INTO incident_revisions VALUES (?, 1, ?, ?)",
            [
                ("i1", fixed_at - timedelta(minutes=2), band_diagnosis(80.0, 118.0)),
                ("i2", stuck_at - timedelta(minutes=2), band_diagnosis(80.0, 118.0)),
                ("i3", alert_at - timedelta(minutes=2), alert_diagnosis()),
            ],
        )
        connection.execute(
            "CREATE TABLE alerts (labels JSON, status VARCHAR, starts_at TIMESTAMPTZ,"
            " ends_at TIMESTAMPTZ)"
        )
        connection.execute(
            "INSERT INTO alerts VALUES (?, 'resolved', ?, ?)",
            [
                json.dumps({"alertname": "DbDown", "target": "postgres", "severity": "critical"}),
                alert_at - timedelta(minutes=3),
                alert_at + timedelta(seconds=20),
            ],
        )
        connection.execute(
            "CREATE TABLE metric_points (series VARCHAR, ts TIMESTAMPTZ, value DOUBLE)"
        )
        week = [  # a healthy night wanders over 130-170 ms, every 5 minutes for a week
            (LATENCY, NIGHT - timedelta(minutes=5 * step), 130.0 + (7 * step) % 41)
            for step in range(1, 7 * 288)
        ]
        after_fix = [
            (LATENCY, fixed_at + timedelta(seconds=30 * step), 150.0) for step in range(1, 21)
        ]
        stuck = [(LATENCY, stuck_at + timedelta(seconds=30 * step), 850.0) for step in range(1, 11)]
        ticks = [(LATENCY, alert_at + timedelta(seconds=30 * step), 150.0) for step in range(1, 4)]
        connection.executemany(
            "INSERT INTO metric_points VALUES (?, ?, ?)", [*week, *after_fix, *stuck, *ticks]
        )


REPORT = {
    "faults": [
        {"kind": "traffic_surge", "platform": "a", "resolved_by": "scale_out",
         "injected_at": "2026-01-20T03:10:00+00:00", "resolved_at": "2026-01-20T03:20:10+00:00"},
        {"kind": "traffic_surge", "platform": "a", "resolved_by": None,
         "injected_at": "2026-01-20T04:10:00+00:00", "resolved_at": None},
        {"kind": "db_unreachable", "platform": None, "resolved_by": "reset_db_connections",
         "injected_at": "2026-01-20T05:15:00+00:00", "resolved_at": "2026-01-20T05:20:05+00:00"},
    ]
}  # fmt: skip


def test_the_widened_band_turns_only_the_repair_that_worked(tmp_path: Path) -> None:
    store, report = tmp_path / "run.duckdb", tmp_path / "run.json"
    write_store(store)
    report.write_text(json.dumps(REPORT))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report), "--db", str(store)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines()[1:4]]
    assert ["fixed", "did_not_work", "did_not_work", "worked", "1"] in rows
    assert ["not", "fixed", "did_not_work", "did_not_work", "did_not_work", "1"] in rows
    assert ["fixed", "worked", "worked", "worked", "1"] in rows
    assert "verdicts the widening changes: 1" in done.stdout
    assert "scale_out on a (fixed): did_not_work -> worked" in done.stdout


def test_a_missing_store_is_one_line_and_exit_2(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    report.write_text(json.dumps(REPORT))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report), "--db", str(tmp_path / "no.duckdb")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no.duckdb: no such file" in done.stderr
