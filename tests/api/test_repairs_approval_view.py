"""What an approver sees: the action, the target and the exact parameters of the repair."""

from __future__ import annotations

from fastapi.testclient import TestClient

from selfheal_ml.actions import (
    GuardPolicy,
    RecordingExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.clock import SimClock

AUTH = {"Authorization": "Bearer test-token"}  # the token tests/api/conftest.py sets


def test_pending_and_resolved_views_show_action_target_and_params(
    client: TestClient, sim_clock: SimClock
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    guard = SafetyGuard(GuardPolicy(platform_count=4))
    executors = {"add_index": RecordingExecutor()}
    service = RepairService(guard, executors, runtime.repairs, sim_clock)
    runtime.repair_service = service
    params = {"table": "orders", "columns": ["customer_id", "created_at"]}
    request = RepairRequest("inc-7", "corr-7", "add_index", "shop-db", params=params)
    attempt = client.portal.call(service.propose, request)  # type: ignore[union-attr]
    [pending] = client.get("/admin/repairs/pending", headers=AUTH).json()
    assert (pending["action"], pending["target"], pending["params"]) == (
        "add_index",
        "shop-db",
        params,
    )
    approved = client.post(f"/admin/repairs/{attempt.attempt_id}/approve", headers=AUTH).json()
    assert approved["params"] == params and approved["target"] == "shop-db"
