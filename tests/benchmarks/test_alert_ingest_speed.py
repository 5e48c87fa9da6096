"""Benchmark: 20,000 alerts through ``POST /api/v2/alerts`` in one request, against the old
path of one transaction per alert.

Both run on a DuckDB file under a SimClock, through a real app (in-process TestClient, so
JSON parsing and validation count). The batch path posts 20,000 distinct alerts (50 groups)
in one body; the per-alert path ingests ``PER_ALERT_SAMPLE`` alerts one request each (each
its own transaction, as every alert was before), and its per-alert time is scaled to 20,000
for the ratio. Asserted: the batch under 10 s. See docs/benchmarks.md (issue 18).

Run: .venv/bin/pytest tests/benchmarks/test_alert_ingest_speed.py -m benchmark -s \
    -p no:cacheprovider
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings

ALERTS = 20_000
PER_ALERT_SAMPLE = 1_000
BUDGET_S = 10.0
AUTH = {"Authorization": "Bearer bench-token"}


def _alert(index: int, prefix: str) -> dict[str, object]:
    return {
        "labels": {
            "alertname": f"{prefix}{index % 50}",
            "instance": f"host-{index}:9100",
            "job": "node",
            "severity": "warning",
        },
        "annotations": {"summary": f"load high on host-{index}", "runbook": "https://wiki/x"},
        "generatorURL": "http://prometheus:9090/graph",
    }


@pytest.fixture
def client(
    tmp_path: Path, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", "bench-token")
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "ingest.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("ENABLE_SELF_HEALING", "false")
    app = create_app(load_settings(), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.benchmark
def test_twenty_thousand_alerts_in_one_request(client: TestClient) -> None:
    batch = [_alert(i, "Batch") for i in range(ALERTS)]
    started = time.perf_counter()
    response = client.post("/api/v2/alerts", json=batch, headers=AUTH)
    batch_s = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": ALERTS}
    dashboard = client.get("/admin/system/dashboard", headers=AUTH).json()
    assert dashboard["alerts"]["total"] == ALERTS

    started = time.perf_counter()
    for index in range(PER_ALERT_SAMPLE):
        one = client.post("/api/v2/alerts", json=[_alert(index, "Single")], headers=AUTH)
        assert one.status_code == 200
    per_alert_s = (time.perf_counter() - started) / PER_ALERT_SAMPLE
    old_s = per_alert_s * ALERTS
    print(
        f"\n{ALERTS} alerts in one request: {batch_s:.2f} s ({ALERTS / batch_s:,.0f} alerts/s);"
        f" one request and transaction per alert: {per_alert_s * 1000:.2f} ms each"
        f" ({PER_ALERT_SAMPLE} timed), {old_s:.0f} s for {ALERTS}; ratio {old_s / batch_s:.1f}x"
    )
    assert batch_s < BUDGET_S
