"""Alerts over HTTP: Alertmanager ingest, listing, silences, and 4xx that name the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.clock import SimClock

TOKEN = "test-token"  # the token tests/api/conftest.py sets
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_ingest_then_list_then_dashboard_counts(client: TestClient) -> None:
    alerts = [
        {
            "labels": {
                "alertname": "HighLatency",
                "severity": "warning",
                "platform": "leadsite.ai",
            },
            "annotations": {"summary": "p95 above 2 s"},
        },
    ]
    response = client.post("/api/v2/alerts", json=alerts, headers=AUTH)
    assert response.status_code == 200, response.text
    firing = client.get("/v1/alerts", params={"status": "firing"}).json()
    assert [alert["labels"]["alertname"] for alert in firing] == ["HighLatency"]
    counts = client.get("/admin/system/dashboard", headers=AUTH).json()["alerts"]
    assert counts["active"] == 1 and counts["total"] == 1


def test_ingest_repeats_deduplicate(client: TestClient) -> None:
    alert = {"labels": {"alertname": "DiskFull", "severity": "critical"}}
    for _ in range(3):
        assert client.post("/api/v2/alerts", json=[alert], headers=AUTH).status_code == 200
    assert client.get("/admin/system/dashboard", headers=AUTH).json()["alerts"]["total"] == 1


def test_ingest_missing_labels_names_the_field(client: TestClient) -> None:
    response = client.post("/api/v2/alerts", json=[{"annotations": {}}], headers=AUTH)
    assert response.status_code == 422
    assert response.json()["field"] == "body[0].labels"


def test_ingest_needs_token(client: TestClient) -> None:
    response = client.post("/api/v2/alerts", json=[{"labels": {"alertname": "X"}}])
    assert response.status_code == 401


def test_silence_roundtrip(client: TestClient, sim_clock: SimClock) -> None:
    start = sim_clock.now()
    body = {
        "matchers": [{"name": "alertname", "value": "Noisy", "isRegex": False}],
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "createdBy": "oncall",
        "comment": "known issue",
    }
    response = client.post("/v1/silences", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    silence_id = response.json()["silenceID"]
    listed = client.get("/v1/silences").json()
    assert silence_id in {silence["id"] for silence in listed}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endsAt": None}, "body.endsAt"),
        ({"matchers": []}, "body.matchers"),
        ({"createdBy": ""}, "body.createdBy"),
        ({"unexpected": 1}, "body.unexpected"),
    ],
)
def test_bad_silence_names_the_field(
    client: TestClient, sim_clock: SimClock, change: dict[str, object], field: str
) -> None:
    start = sim_clock.now()
    body: dict[str, object] = {
        "matchers": [{"name": "alertname", "value": "Noisy"}],
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "createdBy": "oncall",
    }
    body.update(change)
    response = client.post("/v1/silences", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_bad_regex_matcher_is_a_422(client: TestClient, sim_clock: SimClock) -> None:
    start = sim_clock.now()
    body = {
        "matchers": [{"name": "alertname", "value": "([", "isRegex": True}],
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "createdBy": "oncall",
    }
    response = client.post("/v1/silences", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "matchers" in response.json()["field"]


def test_bad_query_parameter_names_it(client: TestClient) -> None:
    response = client.get("/v1/alerts", params={"status": "bogus"})
    assert response.status_code == 422
    assert response.json()["field"] == "query.status"
