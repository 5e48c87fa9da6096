"""The repair service's durable journal: its in-memory state, written through to DuckDB.

:class:`RepairJournal` turns the actions' types (requests, approvals, attempts, the guard's
breakers) into the plain rows of :class:`~selfheal_ml.storage.repair_state.RepairStateStore`
and back. The service writes each change as it happens (an approval added or resolved, a
repair executed or verified, a breaker moved) and reads everything back once at start-up
(:meth:`RepairJournal.load`), so a crash loses none of it.

>>> request = RepairRequest("inc-1", "corr-1", "add_index", "shop-db", risk="high",
...                         params={"table": "orders", "columns": ["customer_id"]})
>>> request_from_json(request_to_json(request)) == request
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.actions.approvals import PendingApproval
from selfheal_ml.actions.attempt import Attempt
from selfheal_ml.actions.base import ExecutionResult, RepairRequest
from selfheal_ml.actions.guard import Refusal
from selfheal_ml.storage.repair_state import (
    ApprovalRow,
    BreakerRow,
    ExecutionRow,
    RepairStateStore,
)


def request_to_json(request: RepairRequest) -> dict[str, Any]:
    """A request as JSON-ready data (parameters are JSON values already)."""
    return {
        "incident_id": request.incident_id,
        "correlation_id": request.correlation_id,
        "action": request.action,
        "target": request.target,
        "platform": request.platform,
        "risk": request.risk,
        "params": dict(request.params),
    }


def request_from_json(data: dict[str, Any]) -> RepairRequest:
    """The request :func:`request_to_json` wrote."""
    return RepairRequest(
        incident_id=str(data["incident_id"]),
        correlation_id=str(data["correlation_id"]),
        action=str(data["action"]),
        target=str(data["target"]),
        platform=str(data.get("platform") or ""),
        risk="high" if data.get("risk") == "high" else "low",
        params=dict(data.get("params") or {}),
    )


def attempt_to_json(attempt: Attempt) -> dict[str, Any]:
    """What became of an approval, as JSON-ready data (its request is stored beside it)."""
    result = attempt.result
    return {
        "attempt_id": attempt.attempt_id,
        "decision": attempt.decision,
        "reason": attempt.reason,
        "escalated": attempt.escalated,
        "refusal": None if attempt.refusal is None else str(attempt.refusal),
        "result": None
        if result is None
        else {"ok": result.ok, "detail": result.detail, "duration_s": result.duration_s},
    }


def attempt_from_json(
    data: dict[str, Any], request: RepairRequest, approval_id: str | None
) -> Attempt:
    """The attempt :func:`attempt_to_json` wrote."""
    result = data.get("result")
    refusal = data.get("refusal")
    return Attempt(
        attempt_id=str(data["attempt_id"]),
        request=request,
        decision=str(data["decision"]),
        reason=str(data["reason"]),
        escalated=bool(data.get("escalated")),
        result=None
        if result is None
        else ExecutionResult(bool(result["ok"]), str(result["detail"]), {}, result["duration_s"]),
        approval_id=approval_id,
        refusal=None if refusal is None else Refusal(refusal),
    )


@dataclass(frozen=True)
class SavedExecution:
    """An execution read back: its request, start, and whether it still awaits verification."""

    attempt_id: str
    request: RepairRequest
    started_at: datetime
    unverified: bool


@dataclass(frozen=True)
class SavedRepairState:
    """Everything the repair service kept: what :meth:`RepairService.resume` restores."""

    pending: list[PendingApproval] = field(default_factory=list)
    resolved: list[tuple[PendingApproval, Attempt | None]] = field(default_factory=list)
    executions: list[SavedExecution] = field(default_factory=list)
    breakers: list[BreakerRow] = field(default_factory=list)


def _approval(row: ApprovalRow) -> PendingApproval:
    state = row.state if row.state in ("pending", "approved", "denied", "expired") else "expired"
    return PendingApproval(
        approval_id=row.approval_id,
        request=request_from_json(row.request),
        requested_at=row.requested_at,
        expires_at=row.expires_at,
        state=state,  # type: ignore[arg-type]  # checked against the four states above
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


class RepairJournal:
    """Writes the repair service's state changes through to a :class:`RepairStateStore`."""

    def __init__(self, store: RepairStateStore) -> None:
        self.store = store

    def approval(self, entry: PendingApproval, answer: Attempt | None = None) -> None:
        """An approval was added or resolved (``answer``: the attempt its resolution made)."""
        self.store.save_approval(
            ApprovalRow(
                approval_id=entry.approval_id,
                requested_at=entry.requested_at,
                expires_at=entry.expires_at,
                state=entry.state,
                request=request_to_json(entry.request),
                resolved_by=entry.resolved_by,
                resolved_at=entry.resolved_at,
                answer=None if answer is None else attempt_to_json(answer),
            )
        )

    def executed(self, attempt_id: str, request: RepairRequest, now: datetime) -> None:
        """A repair is about to run (written before its executor is called)."""
        self.store.save_execution(
            ExecutionRow(
                attempt_id, request.target, request.platform, now, request_to_json(request)
            )
        )

    def finished(self, attempt_id: str, outcome: str, now: datetime) -> None:
        """An executed repair's verified outcome."""
        self.store.finish_execution(attempt_id, outcome, now)

    def breaker(
        self, target: str, failures: int, opened_at: datetime | None, now: datetime
    ) -> None:
        """The breaker of ``target`` moved."""
        self.store.save_breaker(target, failures, opened_at, now)

    def close_unjournalled(self, now: datetime) -> int:
        """Close executed audit rows the journal never saw as ``unknown``; how many."""
        return self.store.close_unjournalled(now)

    def load(self, now: datetime, window_s: float) -> SavedRepairState:
        """What was kept: approvals, executions of the last ``window_s`` and every unverified
        one, and the breakers."""
        resolved = []
        for row in self.store.approvals(pending=False):
            entry = _approval(row)
            answer = None if row.answer is None else attempt_from_json(
                row.answer, entry.request, entry.approval_id
            )  # fmt: skip
            resolved.append((entry, answer))
        executions = [
            SavedExecution(
                row.attempt_id, request_from_json(row.request), row.started_at, row.outcome is None
            )
            for row in self.store.executions(started_after=now - timedelta(seconds=window_s))
        ]
        return SavedRepairState(
            pending=[_approval(row) for row in self.store.approvals(pending=True)],
            resolved=resolved,
            executions=executions,
            breakers=self.store.breakers(),
        )
