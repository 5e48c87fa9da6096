"""Repairs: the audit log, the requests awaiting approval, and a human's approve / deny.

``POST /admin/repairs/{id}/approve`` and ``/deny`` resolve a high-risk repair that waits for
approval (the id is its ``pending_approval`` row in the audit log): 404 naming ``path.id`` for
an unknown id, 409 when it is no longer pending. They reach the runtime's
``repair_service``; while none is configured they answer 503.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from selfheal_ml.actions import (
    ApprovalNotFoundError,
    ApprovalNotPendingError,
    Attempt,
    PendingApproval,
    RepairService,
)
from selfheal_ml.api.deps import AdminDep, RuntimeDep
from selfheal_ml.api.openapi_errors import NOT_PENDING
from selfheal_ml.runtime import Runtime

router = APIRouter(prefix="/admin/repairs", tags=["repairs"])


class ResolutionIn(BaseModel):
    """Who approves or denies (optional body; ``admin`` when absent)."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="admin", min_length=1, max_length=200)


def _service(runtime: Runtime) -> RepairService:
    service: RepairService | None = getattr(runtime, "repair_service", None)
    if service is None:
        raise HTTPException(status_code=503, detail="repair service not configured")
    return service


def params_json(params: Mapping[str, Any]) -> dict[str, Any]:
    """A repair's parameters as JSON-ready data, so the approver sees exactly what will run
    (which index on which columns, which key pattern); values JSON cannot hold become text.

    >>> params_json({"table": "orders", "columns": ("customer_id",), "at": object()})["columns"]
    ['customer_id']
    """
    return {str(name): json.loads(json.dumps(value, default=str)) for name, value in params.items()}


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    """An attempt as JSON-ready data."""
    result = attempt.result
    return {
        "attemptId": attempt.attempt_id,
        "approvalId": attempt.approval_id,
        "decision": attempt.decision,
        "reason": attempt.reason,
        "escalated": attempt.escalated,
        "action": attempt.request.action,
        "target": attempt.request.target,
        "params": params_json(attempt.request.params),
        "incidentId": attempt.request.incident_id,
        "correlationId": attempt.request.correlation_id,
        "result": None
        if result is None
        else {"ok": result.ok, "detail": result.detail, "durationS": result.duration_s},
    }


def _pending_json(entry: PendingApproval) -> dict[str, Any]:
    return {
        "id": entry.approval_id,
        "action": entry.request.action,
        "target": entry.request.target,
        "platform": entry.request.platform,
        "risk": entry.request.risk,
        "params": params_json(entry.request.params),
        "incidentId": entry.request.incident_id,
        "correlationId": entry.request.correlation_id,
        "requestedAt": entry.requested_at.isoformat(),
        "expiresAt": entry.expires_at.isoformat(),
    }


@router.get("")
def list_repairs(
    runtime: RuntimeDep, _: AdminDep, limit: int = Query(default=100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    """The repair audit log, newest first."""
    rows = []
    for attempt in runtime.repairs.attempts(limit):
        row = asdict(attempt)
        row["ts"] = attempt.ts.isoformat()
        row["finished_at"] = attempt.finished_at.isoformat() if attempt.finished_at else None
        rows.append(row)
    return rows


@router.get("/pending")
def list_pending(runtime: RuntimeDep, _: AdminDep) -> list[dict[str, Any]]:
    """High-risk repairs waiting for approval, oldest first: action, target and parameters."""
    return [_pending_json(entry) for entry in _service(runtime).pending()]


async def _resolve(runtime: Runtime, repair_id: str, approve: bool, by: str) -> dict[str, Any]:
    service = _service(runtime)
    try:
        if approve:
            attempt = await service.approve(repair_id, by)
        else:
            attempt = await service.deny(repair_id, by)
    except ApprovalNotFoundError as error:
        raise HTTPException(
            status_code=404, detail={"error": f"path.id: {error}", "field": "path.id"}
        ) from error
    except ApprovalNotPendingError as error:
        raise HTTPException(
            status_code=409, detail={"error": f"path.id: {error}", "field": "path.id"}
        ) from error
    return attempt_json(attempt)


@router.post("/{id}/approve", responses=NOT_PENDING)
async def approve_repair(
    id: str,
    runtime: RuntimeDep,
    _: AdminDep,
    body: ResolutionIn | None = None,
) -> dict[str, Any]:
    """Approve a pending high-risk repair: it is checked again, then executed or refused."""
    return await _resolve(runtime, id, True, (body or ResolutionIn()).by)


@router.post("/{id}/deny", responses=NOT_PENDING)
async def deny_repair(
    id: str,
    runtime: RuntimeDep,
    _: AdminDep,
    body: ResolutionIn | None = None,
) -> dict[str, Any]:
    """Deny a pending high-risk repair: nothing runs."""
    return await _resolve(runtime, id, False, (body or ResolutionIn()).by)
