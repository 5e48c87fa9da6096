"""Repairs over HTTP: audit log, pending list, approve / deny, and the 4xx/503 contract."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.actions import (
    GuardPolicy,
    RecordingExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.clock import SimClock

TOKEN = "test-token"  # the token tests/api/conftest.py sets
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def executor(client: TestClient, sim_clock: SimClock) -> RecordingExecutor:
    """A repair service on the app's runtime, with a recording executor for every action."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    recording = RecordingExecutor()
    guard = SafetyGuard(GuardPolicy(platform_count=4))
    executors = {"add_index": recording, "restart_service": recording}
    runtime.repair_service = RepairService(guard, executors, runtime.repairs, sim_clock)
    return recording


def propose(client: TestClient, action: str, incident: str = "inc-1") -> str:
    service: RepairService = client.app.state.runtime.repair_service  # type: ignore[attr-defined]
    request = RepairRequest(incident, f"corr-{incident}", action, "leadsite.ai")
    attempt = client.portal.call(service.propose, request)  # type: ignore[union-attr]
    return attempt.attempt_id


def test_approve_runs_the_pending_repair(client: TestClient, executor: RecordingExecutor) -> None:
    repair_id = propose(client, "add_index")
    pending = client.get("/admin/repairs/pending", headers=AUTH).json()
    assert [entry["id"] for entry in pending] == [repair_id] and executor.calls == []
    response = client.post(
        f"/admin/repairs/{repair_id}/approve", json={"by": "alice"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"] == "executed" and body["approvalId"] == repair_id
    assert "approved by alice" in body["reason"] and body["result"]["ok"] is True
    assert [call.action for call in executor.calls] == ["add_index"]
    again = client.post(f"/admin/repairs/{repair_id}/approve", headers=AUTH)
    assert again.status_code == 409 and again.json()["detail"]["field"] == "path.id"


def test_deny_runs_nothing_and_the_log_shows_it(
    client: TestClient, executor: RecordingExecutor
) -> None:
    repair_id = propose(client, "add_index")
    response = client.post(f"/admin/repairs/{repair_id}/deny", headers=AUTH)
    assert response.status_code == 200 and response.json()["decision"] == "denied"
    assert executor.calls == []
    log = client.get("/admin/repairs", headers=AUTH).json()
    assert {row["decision"] for row in log} == {"pending_approval", "denied"}
    assert {row["correlation_id"] for row in log} == {"corr-inc-1"}


def test_audit_log_is_newest_first(
    client: TestClient, executor: RecordingExecutor, sim_clock: SimClock
) -> None:
    first = propose(client, "restart_service", "inc-1")
    sim_clock.advance(10)
    second = propose(client, "drop_everything", "inc-2")
    log = client.get("/admin/repairs", params={"limit": 10}, headers=AUTH).json()
    assert [row["attempt_id"] for row in log] == [second, first]
    assert [row["decision"] for row in log] == ["refused", "executed"]


def test_unknown_id_is_404_naming_id(client: TestClient, executor: RecordingExecutor) -> None:
    response = client.post("/admin/repairs/nope/approve", headers=AUTH)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail["field"] == "path.id" and "nope" in detail["error"]


def test_routes_need_the_admin_token(client: TestClient, executor: RecordingExecutor) -> None:
    assert client.get("/admin/repairs").status_code == 401
    assert client.post("/admin/repairs/x/deny").status_code == 401


def test_without_a_repair_service_the_routes_answer_503(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    if hasattr(runtime, "repair_service"):
        runtime.repair_service = None
    response = client.post("/admin/repairs/x/approve", headers=AUTH)
    assert response.status_code == 503
    assert response.json()["detail"] == "repair service not configured"
    assert client.get("/admin/repairs", headers=AUTH).status_code == 200  # the log still reads


def test_extra_fields_in_the_body_are_refused(
    client: TestClient, executor: RecordingExecutor
) -> None:
    response = client.post("/admin/repairs/x/deny", json={"who": "bob"}, headers=AUTH)
    assert response.status_code == 422
