"""The CrowdSec bouncer API (``/v1/decisions``) against a recorded exchange.

The expected shapes come from CrowdSec's own documentation of the Local API for bouncers
("For bouncers", docs.crowdsec.net, query and stream mode) and its swagger ``Decision`` model:
a decision object is ``{"duration", "id", "origin", "scenario", "scope", "type", "value"}``
(``simulated`` optional), ``GET /v1/decisions?ip=`` answers a list or ``null``, the stream
answers ``{"new": [...], "deleted": [...]}`` and a missing or wrong key gets 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings
from selfheal_ml.security.ban_policy import BanPolicy, BanSettings
from selfheal_ml.security.findings import Finding, FindingKind, Scope

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
BOUNCER = {"X-Api-Key": KEY}

#: CrowdSec's documented answer to ``GET /v1/decisions?ip=1.2.3.4`` (query mode)
DOCUMENTED_DECISION = {
    "duration": "3h59m55.756182786s",
    "id": 1,
    "origin": "cscli",
    "scenario": "manual 'ban' from '939972095cf1459c8b22cc608eff85daEb4yoi2wiTD7Y3fA'",
    "scope": "Ip",
    "type": "ban",
    "value": "1.2.3.4",
}
GO_DURATION = re.compile(r"^-?(\d+h)?(\d+m)?\d+(\.\d+)?s$")


@pytest.fixture
def app_client(
    db_path: Path, sim_clock: SimClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A started app with two bouncer keys and the admin token ``t``; no scheduler."""
    config = tmp_path / "selfheal.toml"
    config.write_text(f'[security]\nbouncer_api_keys = ["{KEY}", "{OTHER_KEY}"]\n')
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", "t")
    monkeypatch.setenv("SELFHEAL_DB", str(db_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    app = create_app(load_settings(config), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as client:
        yield client


def ban(client: TestClient, address: str, clock: SimClock, *, dry_run: bool = False) -> None:
    """Store a brute-force ban of ``address`` decided now (as the Security agent would)."""
    now = clock.now()
    finding = Finding(FindingKind.BRUTE_FORCE, Scope.IP, address, now, now, 5, ("line 1",))
    decision = BanPolicy(BanSettings(dry_run=dry_run)).decide(finding)
    assert decision is not None
    client.app.state.runtime.security.append_decisions([decision])  # type: ignore[attr-defined]


def test_missing_or_wrong_key_is_forbidden_as_crowdsec_answers(app_client: TestClient) -> None:
    for headers in ({}, {"X-Api-Key": "not-a-key"}):
        for path in ("/v1/decisions", "/v1/decisions/stream?startup=true"):
            answer = app_client.get(path, headers=headers)
            assert answer.status_code == 403
            assert answer.json() == {"message": "access forbidden"}


def test_query_mode_answers_a_list_for_a_banned_address_and_null_otherwise(
    app_client: TestClient, sim_clock: SimClock
) -> None:
    assert app_client.get("/v1/decisions?ip=1.2.3.4", headers=BOUNCER).json() is None
    ban(app_client, "1.2.3.4", sim_clock)
    sim_clock.advance(4.2)

    found = app_client.get("/v1/decisions?ip=1.2.3.4", headers=BOUNCER).json()

    assert len(found) == 1
    decision = found[0]
    assert set(DOCUMENTED_DECISION) <= set(decision)
    for field, example in DOCUMENTED_DECISION.items():
        assert type(decision[field]) is type(example), field
    assert {k: decision[k] for k in ("origin", "scope", "type", "value", "scenario")} == {
        "origin": "selfheal-ml",
        "scope": "Ip",
        "type": "ban",
        "value": "1.2.3.4",
        "scenario": "selfheal-ml/brute_force",
    }
    assert decision["duration"] == "9m55s" and GO_DURATION.match(decision["duration"])
    assert decision["simulated"] is False
    same = app_client.get("/v1/decisions?scope=ip&value=::ffff:1.2.3.4", headers=BOUNCER)
    assert same.json() == found
    assert app_client.get("/v1/decisions?ip=1.2.3.5", headers=BOUNCER).json() is None
    assert app_client.get("/v1/decisions?type=captcha", headers=BOUNCER).json() is None


def test_stream_sends_everything_at_startup_then_only_changes_per_bouncer(
    app_client: TestClient, sim_clock: SimClock
) -> None:
    def pull(startup: bool, key: str = KEY) -> dict[str, list[dict[str, object]]]:
        flag = "true" if startup else "false"
        answer = app_client.get(f"/v1/decisions/stream?startup={flag}", headers={"X-Api-Key": key})
        assert answer.status_code == 200
        return dict(answer.json())

    assert pull(startup=True) == {"new": [], "deleted": []}
    ban(app_client, "198.51.100.7", sim_clock)
    ban(app_client, "198.51.100.8", sim_clock, dry_run=True)  # simulation: never sent
    sim_clock.advance(10)

    first = pull(startup=False)
    assert [(d["value"], d["duration"]) for d in first["new"]] == [("198.51.100.7", "9m50s")]
    assert first["deleted"] == []
    assert pull(startup=False) == {"new": [], "deleted": []}  # nothing changed since

    other = pull(startup=True, key=OTHER_KEY)  # its own cursor
    assert [d["value"] for d in other["new"]] == ["198.51.100.7"]

    sim_clock.advance_to(sim_clock.now() + timedelta(seconds=591))  # 1 s past the expiry
    gone = pull(startup=False)
    assert gone["new"] == []
    assert [(d["value"], d["duration"], d["id"]) for d in gone["deleted"]] == [
        ("198.51.100.7", "-1s", first["new"][0]["id"])
    ]
    assert pull(startup=False) == {"new": [], "deleted": []}
    assert app_client.get("/v1/decisions?ip=198.51.100.7", headers=BOUNCER).json() is None


def test_head_checks_the_key_without_moving_the_cursor(
    app_client: TestClient, sim_clock: SimClock
) -> None:
    assert app_client.head("/v1/decisions").status_code == 403
    ban(app_client, "198.51.100.7", sim_clock)
    assert app_client.head("/v1/decisions/stream", headers=BOUNCER).status_code == 200
    first = app_client.get("/v1/decisions/stream", headers=BOUNCER).json()
    assert [d["value"] for d in first["new"]] == ["198.51.100.7"]
