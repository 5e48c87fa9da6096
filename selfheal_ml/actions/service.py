"""The repair service: every proposed repair goes guard -> (maybe) executor -> audit log.

:class:`RepairService` is what the Repair agent and the admin API call. It owns no policy of
its own: the :class:`~selfheal_ml.actions.guard.SafetyGuard` decides, an
:class:`~selfheal_ml.actions.base.Executor` (chosen by action name) acts, and every path
writes the audit log (``repair_audit``) with the incident's correlation id:

===================  ==========================================================================
decision             when; how the row is finished
===================  ==========================================================================
``executed``         the guard allowed it and an executor ran it; finished by
                     :meth:`RepairService.record_outcome` (``worked``/``did_not_work``), or at
                     once with ``did_not_work`` when the executor failed
``dry_run``          auto repair is off; finished at once (outcome ``unknown``)
``refused``          a guard check objected, or no executor serves the action; finished at once
``pending_approval`` high risk: waits; its id is the approval id; finished (``unknown``) when
                     approved, denied or expired
``denied``           a human said no (reason names who); finished at once
``expired``          nobody answered within the approval timeout: escalated; finished at once
===================  ==========================================================================

An approved request is checked again (cooldown, breaker and blast radius may have changed) and
its ``executed`` or ``refused`` row's reason names the approver. Audit writes run in a worker
thread (DuckDB is synchronous); the guard's check and its bookkeeping happen without an
``await`` in between, so concurrent proposals cannot both slip under a limit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from selfheal_ml.actions.approvals import ApprovalBook, PendingApproval
from selfheal_ml.actions.base import (
    AttemptNotFoundError,
    ExecutionResult,
    Executor,
    RepairRequest,
)
from selfheal_ml.actions.guard import Decision, Refusal, SafetyGuard
from selfheal_ml.clock import Clock, run_blocking
from selfheal_ml.storage.repairs import RepairAuditStore

log = logging.getLogger("selfheal_ml.actions")


@dataclass(frozen=True)
class Attempt:
    """One audited decision on a request; ``result`` is set when an executor ran."""

    attempt_id: str
    request: RepairRequest
    decision: str
    reason: str
    escalated: bool = False
    result: ExecutionResult | None = None
    approval_id: str | None = None
    refusal: Refusal | None = None

    @property
    def executed(self) -> bool:
        """Whether an executor ran (successfully or not)."""
        return self.result is not None


@dataclass(frozen=True)
class OutcomeRecorded:
    """The verified outcome of an executed attempt; ``breaker_opened`` asks for escalation."""

    attempt_id: str
    request: RepairRequest
    worked: bool
    breaker_opened: bool


def _attempt(
    attempt_id: str,
    request: RepairRequest,
    decision: Decision,
    approval_id: str | None,
    result: ExecutionResult | None = None,
    escalated: bool | None = None,
) -> Attempt:
    escalate = decision.escalate if escalated is None else escalated
    return Attempt(
        attempt_id,
        request,
        decision.decision,
        decision.reason,
        escalate,
        result,
        approval_id,
        decision.refusal,
    )


class RepairService:
    """Guarded, audited repairs with an approval flow (see module doc)."""

    def __init__(
        self,
        guard: SafetyGuard,
        executors: Mapping[str, Executor],
        audit: RepairAuditStore,
        clock: Clock,
    ) -> None:
        self.guard = guard
        self.executors = dict(executors)
        self.audit = audit
        self.clock = clock
        self.approvals = ApprovalBook(guard.policy.approval_timeout_s)
        self._awaiting_outcome: dict[str, tuple[RepairRequest, str]] = {}
        self._answered: dict[str, Attempt] = {}

    async def propose(self, request: RepairRequest) -> Attempt:
        """Pass ``request`` through the guard, execute it if allowed, audit either way."""
        now = self.clock.now()
        return await self._act(request, self.guard.check(request, now), now)

    async def approve(self, approval_id: str, by: str) -> Attempt:
        """A human approves a pending request: checked again, then executed or refused."""
        now = self.clock.now()
        await self.expire_pending(now)
        entry = self.approvals.approve(approval_id, by, now)
        await self._close_pending(entry, now)
        decision = self.guard.check(entry.request, now, approved=True)
        decision = replace(decision, reason=f"approved by {by}; {decision.reason}")
        attempt = await self._act(entry.request, decision, now, approval_id=approval_id)
        self._answered[approval_id] = attempt
        return attempt

    async def deny(self, approval_id: str, by: str) -> Attempt:
        """A human denies a pending request: nothing runs."""
        now = self.clock.now()
        await self.expire_pending(now)
        entry = self.approvals.deny(approval_id, by, now)
        await self._close_pending(entry, now)
        decision = Decision(False, "denied", f"denied by {by}")
        attempt_id = await self._record(entry.request, decision, now, finish=True)
        attempt = _attempt(attempt_id, entry.request, decision, approval_id)
        self._answered[approval_id] = attempt
        return attempt

    async def expire_pending(self, now: datetime | None = None) -> list[Attempt]:
        """Expire requests past their approval deadline; each is audited and escalated."""
        now = self.clock.now() if now is None else now
        expired = []
        for entry in self.approvals.expire(now):
            await self._close_pending(entry, now)
            reason = f"no approval within {self.approvals.timeout_s:.0f} s; escalated to a human"
            decision = Decision(False, "expired", reason, escalate=True)
            attempt_id = await self._record(entry.request, decision, now, finish=True)
            attempt = _attempt(attempt_id, entry.request, decision, entry.approval_id)
            self._answered[entry.approval_id] = attempt
            expired.append(attempt)
        return expired

    async def record_outcome(self, attempt_id: str, worked: bool) -> OutcomeRecorded:
        """The verified outcome of an executed attempt: finishes its row, feeds the breaker."""
        try:
            request, ticket = self._awaiting_outcome.pop(attempt_id)
        except KeyError:
            raise AttemptNotFoundError(attempt_id) from None
        return await self._finish_execution(attempt_id, request, ticket, worked)

    def answer(self, approval_id: str) -> Attempt | None:
        """What became of a request that waited for approval: the attempt made when it was
        approved (executed or refused), denied or expired; ``None`` while it still waits."""
        return self._answered.get(approval_id)

    def pending(self) -> list[PendingApproval]:
        """Requests waiting for approval, oldest first."""
        return self.approvals.pending()

    def awaiting_outcome(self) -> list[str]:
        """Ids of executed attempts whose outcome has not been recorded yet."""
        return list(self._awaiting_outcome)

    async def _act(
        self,
        request: RepairRequest,
        decision: Decision,
        now: datetime,
        approval_id: str | None = None,
    ) -> Attempt:
        waits = decision.decision == "pending_approval"
        if (decision.allowed or waits) and request.action not in self.executors:
            reason = f"no executor configured for action {request.action}"
            decision = Decision(False, "refused", reason, True, Refusal.NO_EXECUTOR)
        elif waits:
            attempt_id = await self._record(request, decision, now, finish=False)
            self.approvals.add(attempt_id, request, now)
            return _attempt(attempt_id, request, decision, approval_id=attempt_id)
        executor = self.executors.get(request.action) if decision.allowed else None
        if executor is None:
            attempt_id = await self._record(request, decision, now, finish=True)
            return _attempt(attempt_id, request, decision, approval_id)
        return await self._execute(executor, request, decision, now, approval_id)

    async def _execute(
        self,
        executor: Executor,
        request: RepairRequest,
        decision: Decision,
        now: datetime,
        approval_id: str | None,
    ) -> Attempt:
        ticket = self.guard.record_start(request, now)  # no await since the guard's check
        attempt_id = await self._record(request, decision, now, finish=False)
        result = await self._run(executor, request)
        escalated = False
        if result.ok:
            self._awaiting_outcome[attempt_id] = (request, ticket)
        else:
            outcome = await self._finish_execution(attempt_id, request, ticket, worked=False)
            escalated = outcome.breaker_opened
        return _attempt(attempt_id, request, decision, approval_id, result, escalated)

    async def _run(self, executor: Executor, request: RepairRequest) -> ExecutionResult:
        try:
            result = await executor.execute(request)
        except Exception as error:  # every path must reach the audit log
            log.exception("executor %s raised on %s", executor.name, request.action)
            return ExecutionResult.failed(f"{executor.name} raised {type(error).__name__}: {error}")
        log.info(
            "%s on %s by %s: ok=%s %s",
            request.action,
            request.target,
            executor.name,
            result.ok,
            result.detail,
        )
        return result

    async def _finish_execution(
        self, attempt_id: str, request: RepairRequest, ticket: str, worked: bool
    ) -> OutcomeRecorded:
        now = self.clock.now()
        opened = self.guard.record_outcome(ticket, worked, now)
        outcome = "worked" if worked else "did_not_work"
        await run_blocking(
            self.clock, self.audit.finish, attempt_id, outcome=outcome, finished_at=now
        )
        if opened:
            log.warning("circuit breaker opened for %s: escalate", request.target)
        return OutcomeRecorded(attempt_id, request, worked, opened)

    async def _close_pending(self, entry: PendingApproval, now: datetime) -> None:
        await run_blocking(
            self.clock, self.audit.finish, entry.approval_id, outcome="unknown", finished_at=now
        )

    async def _record(
        self, request: RepairRequest, decision: Decision, now: datetime, *, finish: bool
    ) -> str:
        log.info(
            "repair %s on %s: %s (%s)",
            request.action,
            request.target,
            decision.decision,
            decision.reason,
        )
        attempt_id = await run_blocking(
            self.clock,
            self.audit.record,
            ts=now,
            correlation_id=request.correlation_id,
            action=request.action,
            target=request.target,
            decision=decision.decision,
            incident_id=request.incident_id,
            reason=decision.reason,
        )
        if finish:
            await run_blocking(
                self.clock, self.audit.finish, attempt_id, outcome="unknown", finished_at=now
            )
        return attempt_id
