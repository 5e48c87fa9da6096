"""Incidents and repair statistics over HTTP: JSON shape, ordering, filters, 404/422, arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.repair.incident import IncidentRecord
from selfheal_ml.runtime import Runtime
from selfheal_ml.storage.incidents import HistoryIncident, RepairAttemptRecord

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def runtime_of(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def incident(
    incident_id: str,
    opened_at: datetime,
    *,
    status: str = "open",
    root_cause: str | None = None,
    platforms: tuple[str, ...] = ("leadsite.ai",),
    started_at: datetime | None = None,
) -> HistoryIncident:
    return HistoryIncident(
        incident_id=incident_id,
        started_at=started_at,
        opened_at=opened_at,
        closed_at=None,
        platforms=platforms,
        severity="warning",
        status=status,
        root_cause=root_cause,
        record=IncidentRecord(opened_at=opened_at, platforms=platforms),
        signature=f"sig-{incident_id}",
    )


def attempt(
    strategy: str, outcome: str, ts: datetime, target: str = "leadsite.ai"
) -> RepairAttemptRecord:
    return RepairAttemptRecord(
        ts=ts,
        strategy=strategy,
        action=strategy,
        target=target,
        approved_by="Repair",
        outcome=outcome,
        verified_at=ts,
    )


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    """Three incidents an hour apart: the oldest resolved after a failed first attempt, the
    middle one escalated, the newest still open."""
    store = runtime_of(client).incidents
    store.append_history(
        [
            incident(
                "inc-old",
                T0,
                root_cause="db_unreachable@postgres",
                platforms=("leadsite.ai", "tackle.io"),
                started_at=T0 - timedelta(seconds=45),
            ),
            incident("inc-mid", T0 + timedelta(hours=1), status="escalated"),
            incident("inc-new", T0 + timedelta(hours=2), root_cause="disk_filling@tackle.io"),
        ]
    )
    store.record_attempt(
        "inc-old", attempt("restart_service", "did_not_work", T0 + timedelta(minutes=3))
    )
    store.record_attempt(
        "inc-old", attempt("restore_from_backup", "worked", T0 + timedelta(minutes=8))
    )
    return client


def test_incidents_newest_first_with_their_attempts(seeded: TestClient) -> None:
    response = seeded.get("/v1/incidents")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["incident_id"] for item in body] == ["inc-new", "inc-mid", "inc-old"]
    oldest = body[2]
    assert oldest == {
        "incident_id": "inc-old",
        "opened_at": "2026-01-05T08:00:00+00:00",
        "closed_at": "2026-01-05T08:08:00+00:00",
        "started_at": "2026-01-05T07:59:15+00:00",
        "platforms": ["leadsite.ai", "tackle.io"],
        "severity": "warning",
        "status": "resolved",
        "root_cause": "db_unreachable@postgres",
        "resolved_by": "restore_from_backup",
        "source": "live",
        "time_to_detect_s": 45.0,
        "time_to_repair_s": 480.0,  # opened 08:00, worked at 08:08
        "diagnosis": None,  # a history row written whole, not by the live loop
        "attempts": [
            {
                "attempt_id": oldest["attempts"][0]["attempt_id"],
                "ts": "2026-01-05T08:03:00+00:00",
                "strategy": "restart_service",
                "action": "restart_service",
                "target": "leadsite.ai",
                "approved_by": "Repair",
                "outcome": "did_not_work",
                "verified_at": "2026-01-05T08:03:00+00:00",
            },
            {
                "attempt_id": oldest["attempts"][1]["attempt_id"],
                "ts": "2026-01-05T08:08:00+00:00",
                "strategy": "restore_from_backup",
                "action": "restore_from_backup",
                "target": "leadsite.ai",
                "approved_by": "Repair",
                "outcome": "worked",
                "verified_at": "2026-01-05T08:08:00+00:00",
            },
        ],
    }
    assert len({row["attempt_id"] for row in oldest["attempts"]}) == 2
    newest = body[0]
    assert newest["status"] == "open" and newest["attempts"] == []
    assert newest["closed_at"] is None and newest["resolved_by"] is None
    assert newest["time_to_detect_s"] is None and newest["time_to_repair_s"] is None


def test_incidents_filter_by_status_and_limit(seeded: TestClient) -> None:
    def ids(**params: str | int) -> list[str]:
        response = seeded.get("/v1/incidents", params=params)
        assert response.status_code == 200, response.text
        return [item["incident_id"] for item in response.json()]

    assert ids(status="open") == ["inc-new"]
    assert ids(status="resolved") == ["inc-old"]
    assert ids(status="escalated") == ["inc-mid"]
    assert ids(status="all", limit=2) == ["inc-new", "inc-mid"]
    assert ids(limit=1) == ["inc-new"]


def test_one_incident_and_404_naming_the_id(seeded: TestClient) -> None:
    listed = {item["incident_id"]: item for item in seeded.get("/v1/incidents").json()}
    for incident_id in ("inc-old", "inc-mid"):
        response = seeded.get(f"/v1/incidents/{incident_id}")
        assert response.status_code == 200
        one = response.json()
        assert (one.pop("revisions"), one.pop("transitions")) == ([], [])
        assert one == listed[incident_id]
    missing = seeded.get("/v1/incidents/no-such-incident")
    assert missing.status_code == 404
    assert missing.json()["detail"]["field"] == "path.id"
    assert "no-such-incident" in missing.json()["detail"]["error"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"status": "closed"}, "query.status"),
    ],
)
def test_bad_query_parameters_are_422_naming_the_field(
    client: TestClient, params: dict[str, str | int], field: str
) -> None:
    response = client.get("/v1/incidents", params=params)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(f"{field}:")


def test_reads_are_open_like_the_other_v1_reads(seeded: TestClient) -> None:
    """The client sends no Authorization header: ``/v1`` GETs need no admin token."""
    for path in ("/v1/incidents", "/v1/incidents/inc-old", "/v1/repairs/stats"):
        assert seeded.get(path).status_code == 200
    assert seeded.get("/admin/repairs").status_code == 401  # the admin side still needs it


def test_empty_history(client: TestClient) -> None:
    assert client.get("/v1/incidents").json() == []
    stats = client.get("/v1/repairs/stats").json()
    assert stats["strategies"] == []
    assert stats["audited"] == 0
    assert set(stats["decisions"].values()) == {0}
    assert set(stats["decisions"]) >= {"executed", "refused", "pending_approval", "expired"}


def test_stats_per_strategy_with_wilson_intervals(client: TestClient) -> None:
    runtime = runtime_of(client)
    store = runtime.incidents
    store.append_history([incident(f"inc-{n}", T0 + timedelta(hours=n)) for n in range(7)])
    outcomes = [
        ("inc-0", "clear_cache", "worked"),
        ("inc-1", "clear_cache", "did_not_work"),
        ("inc-2", "clear_cache", "worked"),
        ("inc-3", "clear_cache", "worked"),
        ("inc-4", "clear_cache", "unknown"),  # not verified: not counted
        ("inc-5", "rollback_config", "did_not_work"),
        ("inc-6", "rollback_config", "did_not_work"),
    ]
    for number, (incident_id, strategy, outcome) in enumerate(outcomes):
        store.record_attempt(
            incident_id, attempt(strategy, outcome, T0 + timedelta(minutes=number))
        )

    body = client.get("/v1/repairs/stats").json()
    first, second = body["strategies"]
    # 3 of 4, z = 1.96: centre (0.75 + z²/8) / (1 + z²/4) = 1.2302 / 1.9604 = 0.62753,
    # margin z·sqrt(0.75·0.25/4 + z²/64) / 1.9604 = 1.96·0.32696 / 1.9604 = 0.32689
    assert first["strategy"] == "clear_cache"
    assert (first["attempts"], first["successes"], first["unverified"]) == (4, 3, 1)
    assert first["success_rate"] == 0.75
    assert first["interval"]["low"] == pytest.approx(0.30064, abs=1e-4)
    assert first["interval"]["high"] == pytest.approx(0.95441, abs=1e-4)
    # 0 of 2: low is 0; high = (z²/4 + z·sqrt(z²/16)) / (1 + z²/2) = 1.9208 / 2.9208 = 0.65763
    assert second["strategy"] == "rollback_config"
    assert (second["attempts"], second["successes"], second["success_rate"]) == (2, 0, 0.0)
    assert second["interval"]["low"] == 0.0
    assert second["interval"]["high"] == pytest.approx(0.65763, abs=1e-4)
    assert body["level"] == 0.95


def test_stats_count_audit_decisions_by_kind(client: TestClient) -> None:
    audit = runtime_of(client).repairs
    kinds = ["executed", "executed", "refused", "expired", "dry_run", "executed"]
    for number, kind in enumerate(kinds):
        audit.record(
            ts=T0 + timedelta(seconds=number),
            correlation_id=f"corr-{number}",
            action="restart_service",
            target="leadsite.ai",
            decision=kind,
        )
    body = client.get("/v1/repairs/stats").json()
    assert body["audited"] == len(kinds)
    assert body["decisions"] == {
        "executed": 3,
        "dry_run": 1,
        "refused": 1,
        "pending_approval": 0,
        "denied": 0,
        "expired": 1,
    }
