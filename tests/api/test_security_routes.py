"""``POST /v1/security/events`` feeds the Security agent; ``GET /v1/security/decisions``
shows what it decided, with evidence; the same ban reaches the CrowdSec stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings

KEY = "0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": "Bearer t"}


@pytest.fixture
def app_client(
    db_path: Path, sim_clock: SimClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        f'[security]\nbouncer_api_keys = ["{KEY}"]\nnever_ban = ["192.0.2.10"]\n'
        "max_event_batch = 50\n"
    )
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", "t")
    monkeypatch.setenv("SELFHEAL_DB", str(db_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    app = create_app(load_settings(config), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as client:
        yield client


def failures(address: str, clock: SimClock, count: int) -> list[dict[str, Any]]:
    start = clock.now() - timedelta(seconds=count)
    return [
        {
            "time": (start + timedelta(seconds=i)).isoformat(),
            "ip": address,
            "user": f"user{i}",
            "event": "login_failed",
        }
        for i in range(count)
    ]


def test_pushed_failed_logins_ban_the_address_with_evidence(
    app_client: TestClient, sim_clock: SimClock
) -> None:
    batch = failures("203.0.113.9", sim_clock, 6) + failures("192.0.2.10", sim_clock, 6)
    batch.append({"time": sim_clock.now().timestamp(), "ip": "198.51.100.3", "event": "login_ok"})

    answer = app_client.post("/v1/security/events", json=batch, headers=AUTH)

    assert answer.status_code == 202
    assert answer.json()["accepted"] == 13
    view = app_client.get("/v1/security/decisions", headers=AUTH).json()
    assert [(d["ip"], d["action"], d["reason"]) for d in view] == [
        ("203.0.113.9", "ban", "brute_force")
    ]  # 192.0.2.10 is on the never-ban list: refused, not active
    assert view[0]["event_count"] == 5 and len(view[0]["evidence"]) >= 1
    assert '"203.0.113.9"' in view[0]["evidence"][0]
    assert view[0]["until"] > view[0]["decided_at"]
    stream = app_client.get("/v1/decisions/stream?startup=true", headers={"X-Api-Key": KEY})
    assert [d["value"] for d in stream.json()["new"]] == ["203.0.113.9"]


def test_events_need_the_admin_token(app_client: TestClient, sim_clock: SimClock) -> None:
    answer = app_client.post("/v1/security/events", json=failures("203.0.113.9", sim_clock, 1))
    assert answer.status_code == 401
    assert app_client.get("/v1/security/decisions").status_code == 401


def test_an_oversized_batch_gets_413(app_client: TestClient, sim_clock: SimClock) -> None:
    answer = app_client.post(
        "/v1/security/events", json=failures("203.0.113.9", sim_clock, 51), headers=AUTH
    )
    assert answer.status_code == 413
    assert "at most 50" in answer.json()["detail"]["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ip": "999.1.1.1"}, "body[1].ip"),
        ({"time": "yesterday"}, "body[1].time"),
        ({"event": "logged_in"}, "body[1].event"),
        ({"status": 700}, "body[1].status"),
        ({"event": None}, "body[1].event"),
    ],
)
def test_a_bad_field_is_refused_naming_it(
    app_client: TestClient, sim_clock: SimClock, change: dict[str, Any], field: str
) -> None:
    batch = failures("203.0.113.9", sim_clock, 2)
    batch[1].update(change)
    if change.get("event", "x") is None:
        del batch[1]["event"]

    answer = app_client.post("/v1/security/events", json=batch, headers=AUTH)

    assert answer.status_code == 422
    assert answer.json()["detail"]["field"] == field
    assert answer.json()["detail"]["error"].startswith(field)
    assert app_client.get("/v1/security/decisions", headers=AUTH).json() == []


def test_a_body_that_is_not_a_list_is_refused(app_client: TestClient) -> None:
    answer = app_client.post("/v1/security/events", json={"time": 1}, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"]["field"] == "body"
