"""``pipelines/incident_evidence.py`` on a hand-made store: a revision's triggers with their
ratio to the band's edge, the whole-run span per metric, a series' stored scores, and a
clear error for a missing window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from selfheal_ml.storage.database import Database
from tests.integration.pipeline_loading import load_pipeline

OPENED = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
CONNECTIONS = 'db_connections_in_use{dependency="postgres",target="postgres"}'


def write_store(path: Path) -> None:
    """One incident with one revision (the leaks-alone run's pool reset) and two scores."""
    database = Database(path)
    diagnosis = {
        "root_cause": "db_pool_exhaustion", "component": "postgres", "confidence": 0.379,
        "candidates": [{"cause": "db_pool_exhaustion", "component": "postgres", "score": 0.364}],
        "triggers": [{"kind": "range", "key": CONNECTIONS, "value": 42.8, "high": 40.0}],
    }  # fmt: skip
    with database.transaction() as connection:
        connection.execute(
            "INSERT INTO incidents (incident_id, opened_at, platforms, severity, status)"
            " VALUES ('i1', ?, ['a'], 'warning', 'resolved')",
            [OPENED],
        )
        connection.execute(
            "INSERT INTO incident_revisions VALUES ('i1', 1, ?, ?)",
            [OPENED + timedelta(minutes=8), json.dumps(diagnosis)],
        )
        for minute, value, flagged in ((1, 42.8, True), (2, 63.2, False)):
            connection.execute(
                "INSERT INTO anomaly_scores VALUES (?, ?, ?, 0.5, 9.0, ?, 27.0, 40.0)",
                [CONNECTIONS, OPENED + timedelta(minutes=minute), value, flagged],
            )
    database.close()


def test_prints_triggers_ratios_and_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.duckdb"
    write_store(path)
    pipeline = load_pipeline("incident_evidence")
    assert pipeline.main(["--db", str(path), "--start", "2026-01-06T15:00", "--minutes", "5",
                          "--series", "db_connections_in_use"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "db_pool_exhaustion@postgres confidence 0.38" in out
    assert "ratio 1.07" in out  # 42.8 / 40.0
    assert "value 63.20, edge 40.0, ratio 1.58, calibrated 9.0\n" in out  # not flagged
    assert "ratio 1.07, calibrated 9.0, flagged" in out
    assert pipeline.main(["--db", str(path), "--whole-run", "--cause", "slow_query"]) == 0
    assert capsys.readouterr().out.strip() == "no incident revision"
    assert pipeline.main(["--db", str(path), "--whole-run"]) == 0
    assert "db_connections_in_use: 1 ratios, 1.07-1.07" in capsys.readouterr().out


def test_a_window_needs_a_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.duckdb"
    write_store(path)
    with pytest.raises(SystemExit) as stopped:
        load_pipeline("incident_evidence").main(["--db", str(path)])
    assert stopped.value.code == 2
    assert "--start: required unless --whole-run" in capsys.readouterr().err
