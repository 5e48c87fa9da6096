"""``pipelines/explain_chaos_run.py`` on a hand-made report and store: unmatched signs by class,
and a restart on a healthy platform set against when its last fault ended."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.integration.pipeline_loading import load_pipeline

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "pipelines/explain_chaos_run.py"


def sign(ts: str, metric: str, **labels: str) -> dict[str, object]:
    return {"ts": ts, "alertname": "AnomalyDetected", "labels": {"metric": metric, **labels}}


REPORT = {
    "days": 1.0,
    "faults": [
        {
            "kind": "memory_leak",
            "platform": "a",
            "injected_at": "2026-01-05T10:00:00+00:00",
            "resolved_at": "2026-01-05T10:40:00+00:00",
        },
        {
            "kind": "traffic_surge",
            "platform": "b",
            "injected_at": "2026-01-05T12:00:00+00:00",
            "resolved_at": "2026-01-05T12:03:00+00:00",
        },
    ],
    "alerts_matching_no_fault_detail": [
        sign("2026-01-05T02:00:00+00:00", "business_events_per_min", platform="c"),
        sign("2026-01-05T12:05:00+00:00", "db_query_duration_ms", dependency="postgres"),
        sign("2026-01-05T18:00:00+00:00", "host_cpu_percent", platform="d"),
    ],
}


def write_store(path: Path) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE repair_audit (ts TIMESTAMPTZ, incident_id VARCHAR, action VARCHAR,"
            " target VARCHAR, decision VARCHAR, outcome VARCHAR)"
        )
        connection.execute("CREATE TABLE incidents (incident_id VARCHAR, root_cause VARCHAR)")
        connection.execute(
            "INSERT INTO repair_audit VALUES"
            " ('2026-01-05 10:20:00+00', 'i1', 'restart_service', 'a', 'executed', 'worked'),"
            " ('2026-01-05 10:41:00+00', 'i2', 'restart_service', 'a', 'executed', 'worked'),"
            " ('2026-01-05 12:01:00+00', 'i3', 'reindex', 'postgres', 'executed', 'worked'),"
            " ('2026-01-05 12:02:00+00', 'i4', 'restart_service', 'b', 'executed', 'did_not_work'),"
            " ('2026-01-05 12:08:00+00', 'i4', 'reset_db_connections', 'postgres', 'executed',"
            " 'worked'),"
            " ('2026-01-05 15:02:00+00', 'i5', 'restart_service', 'e', 'executed',"
            " 'did_not_work')"
        )
        connection.execute(
            "CREATE TABLE repair_executions (target VARCHAR, platform VARCHAR,"
            " started_at TIMESTAMPTZ, outcome VARCHAR, request JSON)"
        )
        connection.execute(
            "INSERT INTO repair_executions SELECT a.target,"
            " CASE WHEN a.target = 'postgres' THEN 'b' ELSE a.target END, a.ts, a.outcome,"
            " json_object('action', a.action, 'incident_id', a.incident_id)"
            " FROM repair_audit a WHERE a.decision = 'executed'"
        )
        connection.execute(
            "CREATE TABLE incident_revisions (incident_id VARCHAR, revision INTEGER,"
            " ts TIMESTAMPTZ, diagnosis JSON)"
        )
        connection.execute(
            "INSERT INTO incident_revisions VALUES"
            """ ('i4', 1, '2026-01-05 12:01:30+00', '{"component": "b"}'),"""
            """ ('i4', 2, '2026-01-05 12:03:00+00', '{"component": "postgres"}')"""
        )
        connection.execute(
            "INSERT INTO incidents VALUES ('i1', 'memory_leak@a'), ('i2', 'memory_leak@a'),"
            " ('i5', 'memory_leak@e')"
        )
        connection.execute("CREATE TABLE anomaly_events (series VARCHAR, ts TIMESTAMPTZ)")
        connection.execute(
            "INSERT INTO anomaly_events VALUES"
            " ('host_cpu_percent{platform=\"d\"}', '2026-01-05 18:00:00+00'),"
            " ('db_query_duration_ms{dependency=\"postgres\"}', '2026-01-05 12:05:00+00'),"
            " ('db_query_duration_ms{dependency=\"postgres\"}', '2026-01-05 12:06:00+00')"
        )


def test_times_leave_out_the_kinds_asked() -> None:
    pipeline = load_pipeline("explain_chaos_run")
    faults = [
        {"kind": "memory_leak", "injected_at": "2026-01-05T10:00:00+00:00",
         "detected_at": "2026-01-05T10:30:00+00:00", "resolved_at": "2026-01-05T10:31:00+00:00",
         "resolved_by": "restart_service", "detected_by": "CapacityBreachPredicted"},
        {"kind": "service_crash", "injected_at": "2026-01-05T11:00:00+00:00",
         "detected_at": "2026-01-05T11:00:20+00:00", "resolved_at": "2026-01-05T11:01:30+00:00",
         "resolved_by": "restart_service"},
    ]  # fmt: skip
    line = pipeline.times_without({"faults": faults}, {"memory_leak"})
    assert line == (
        "without memory_leak: 1 faults; time to detect median / p95 20 / 20 s (1 detected);"
        " time to repair 90 / 90 s (1 ended by a repair)"
    )
    line = pipeline.times_of({"faults": faults}, {"memory_leak"})
    assert line == (
        "only memory_leak: 1 faults; time to detect median / p95 1,800 / 1,800 s (1 detected);"
        " time to repair 1,860 / 1,860 s (1 ended by a repair); slowest detection 1,800 s;"
        " first sign: CapacityBreachPredicted 1"
    )


def test_signs_are_classed_by_series_and_by_the_fault_they_fall_near() -> None:
    pipeline = load_pipeline("explain_chaos_run")
    windows = pipeline.fault_windows(REPORT)
    classes = [pipeline.sign_class(s, windows, 60.0, 300.0) for s in REPORT[
        "alerts_matching_no_fault_detail"]]  # fmt: skip
    assert classes == [
        "low-count series",
        "around a fault: traffic_surge",
        "no fault near: host_cpu_percent",
    ]


def test_a_restart_just_after_a_fault_expired_is_reported_with_the_gap(tmp_path: Path) -> None:
    report, store = tmp_path / "report.json", tmp_path / "run.duckdb"
    report.write_text(json.dumps(REPORT))
    write_store(store)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report), "--db", str(store)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "signs matching no fault: 3 (0.60 per platform-day)" in done.stdout
    # the database's sign had a second flagged point a minute later; the other two were alone
    assert "lone anomalies (no other flagged point within 300 s): 2 of 3" in done.stdout
    assert "repairs on healthy targets: 3" in done.stdout
    # an action on the database is judged by the platform it was addressed to: the reindex
    # at 12:01 came during b's surge, the pool reset at 12:08 five minutes after it ended
    assert "reindex on postgres" not in done.stdout.split("repairs on healthy")[1]
    assert (
        "12:08:00 reset_db_connections on postgres (for b) (worked); incident: None;"
        " the platform's last fault ended: 300 s" in done.stdout
    )
    assert "restart_service on a (worked); incident: memory_leak@a;" in done.stdout
    assert "the platform's last fault ended: 60 s" in done.stdout
    # a platform no fault ever named (the 1001 pool run's leadsite.ai) is a healthy target too
    assert (
        "restart_service on e (did_not_work); incident: memory_leak@e; the platform's last fault"
        " ended: never" in done.stdout
    )
    assert "cause moved to another component after a repair: 1 of 1 with several" in done.stdout
    assert (
        "restart_service on b, then the diagnosis named postgres; later: reset_db_connections"
        " on postgres" in done.stdout
    )
