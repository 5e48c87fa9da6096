"""``/ready`` tells the truth: it fails, naming the check, when the store refuses writes or
the disk is nearly full, and ``/metrics`` counts the refused writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings


def test_ready_reports_each_check(client: TestClient) -> None:
    body = client.get("/ready").json()
    assert body["checks"] == {
        "runtime": "ok",
        "database_write": "ok",
        "disk_free": "ok",
        "agents": "ok",
    }


def test_refused_writes_make_it_not_ready_and_are_counted(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = client.app.state.runtime.database  # type: ignore[attr-defined]
    real_conn = database._conn

    class RefusingConnection:
        """DuckDB's connection, except that COMMIT fails as on a full disk."""

        def execute(self, sql: str, *args: object) -> object:
            if sql == "COMMIT":
                real_conn.execute("ROLLBACK")
                raise duckdb.IOException("No space left on device")
            return real_conn.execute(sql, *args)

    monkeypatch.setattr(database, "_conn", RefusingConnection())
    response = client.get("/ready")
    assert response.status_code == 503
    assert "No space left" in response.json()["checks"]["database_write"]
    assert response.json()["checks"]["disk_free"] == "ok"
    monkeypatch.setattr(database, "_conn", real_conn)
    metrics = client.get("/metrics").text
    assert "selfheal_store_failed_writes_total 1.0" in metrics
    assert client.get("/ready").status_code == 200


@pytest.fixture
def disk_hungry(
    tmp_path: Path, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """An app that wants more free disk than any machine has."""
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "ready.duckdb"))
    monkeypatch.setenv("SELFHEAL_MIN_FREE_DISK_BYTES", str(10**18))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    app = create_app(load_settings(), dev=True, clock=sim_clock, run_scheduler=False)
    with TestClient(app) as test_client:
        yield test_client


def test_low_free_disk_makes_it_not_ready(disk_hungry: TestClient) -> None:
    response = disk_hungry.get("/ready")
    assert response.status_code == 503
    assert "at least 1000000000000000000 required" in response.json()["checks"]["disk_free"]
    assert response.json()["checks"]["database_write"] == "ok"
