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

**Executors by target.** The :class:`~selfheal_ml.actions.routes.ExecutorRoutes` pick the
executor of the request's action *on its target*; a request whose target has none is refused
(``no_executor``) and escalated, never run on another server.

**Durable.** With a :class:`~selfheal_ml.actions.journal.RepairJournal`, every change is
written through to DuckDB as it happens (approvals added and resolved, repairs executed and
verified, breakers), and :meth:`RepairService.resume` reads it all back at start-up: pending
approvals are re-armed with their original deadline (or expired, audited and escalated when
it passed while the service was down), answered ones keep their answer, executed repairs
still await their verified outcome, and cooldowns, rate windows and breakers hold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from selfheal_ml.actions.approvals import ApprovalBook, PendingApproval
from selfheal_ml.actions.attempt import Attempt
from selfheal_ml.actions.base import (
    AttemptNotFoundError,
    ExecutionResult,
    Executor,
    RepairRequest,
)
from selfheal_ml.actions.guard import Decision, Refusal, SafetyGuard
from selfheal_ml.actions.journal import RepairJournal, SavedRepairState
from selfheal_ml.actions.routes import ExecutorRoutes
from selfheal_ml.clock import Clock, run_blocking
from selfheal_ml.storage.repairs import RepairAuditStore

log = logging.getLogger("selfheal_ml.actions")


@dataclass(frozen=True)
class OutcomeRecorded:
    """The verified outcome of an executed attempt; ``breaker_opened`` asks for escalation."""

    attempt_id: str
    request: RepairRequest
    worked: bool
    breaker_opened: bool


@dataclass(frozen=True)
class Resumed:
    """What :meth:`RepairService.resume` brought back after a restart."""

    pending: int = 0
    expired: int = 0
    unverified: int = 0
    breakers: int = 0
    executions: int = 0


def _interrupted(entry: PendingApproval) -> Attempt:
    """The answer of a request approved just before a crash, whose repair never reported: it
    is not run again behind the approver's back; a person must propose it again."""
    reason = (
        f"approved by {entry.resolved_by}, but the service restarted before the repair"
        " reported; not run again: propose it again if still needed"
    )
    return Attempt(entry.approval_id, entry.request, "refused", reason, escalated=True)


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
        executors: Mapping[str, Executor] | ExecutorRoutes,
        audit: RepairAuditStore,
        clock: Clock,
        journal: RepairJournal | None = None,
    ) -> None:
        self.guard = guard
        self.executors = (
            executors
            if isinstance(executors, ExecutorRoutes)
            else ExecutorRoutes.for_any_target(executors)
        )
        self.audit = audit
        self.clock = clock
        self.journal = journal
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
        await self._write(self._journal_approval, entry, None)  # approved before it runs
        decision = self.guard.check(entry.request, now, approved=True)  # no await until run
        decision = replace(decision, reason=f"approved by {by}; {decision.reason}")
        attempt = await self._act(entry.request, decision, now, approval_id=approval_id)
        await self._answer(entry, attempt)
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
        await self._answer(entry, attempt)
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
            await self._answer(entry, attempt)
            expired.append(attempt)
        return expired

    async def record_outcome(self, attempt_id: str, worked: bool) -> OutcomeRecorded:
        """The verified outcome of an executed attempt: finishes its row, feeds the breaker."""
        try:
            request, ticket = self._awaiting_outcome.pop(attempt_id)
        except KeyError:
            raise AttemptNotFoundError(attempt_id) from None
        return await self._finish_execution(attempt_id, request, ticket, worked)

    async def reset_breaker(self, target: str) -> None:
        """A person closes the breaker of ``target`` (kept durable)."""
        self.guard.reset_breaker(target)
        await self._write(self._journal_breaker, target, self.clock.now())

    async def resume(self) -> Resumed:
        """Read back the state kept before a restart (see the module doc); call once, before
        the agents start. Without a journal there is nothing to resume."""
        if self.journal is None:
            return Resumed()
        now = self.clock.now()
        window_s = max(self.guard.policy.rate_window_s, self.guard.policy.cooldown_s)
        saved = await run_blocking(self.clock, self.journal.load, now, window_s)
        await run_blocking(self.clock, self.journal.close_unjournalled, now)
        self._restore_guard(saved)
        for entry, answer in saved.resolved:
            self.approvals.restore(entry)
            if answer is None and entry.state == "approved":
                answer = _interrupted(entry)
                await self._write(self._journal_approval, entry, answer)
            if answer is not None:
                self._answered[entry.approval_id] = answer
        for entry in saved.pending:
            self.approvals.restore(entry)
        expired = await self.expire_pending(now)
        resumed = Resumed(
            pending=len(saved.pending) - len(expired), expired=len(expired),
            unverified=len(self._awaiting_outcome), breakers=len(saved.breakers),
            executions=len(saved.executions),
        )  # fmt: skip
        log.info("repair state resumed: %s", resumed)
        return resumed

    def _restore_guard(self, saved: SavedRepairState) -> None:
        for breaker in saved.breakers:
            self.guard.restore_breaker(breaker.target, breaker.failures, breaker.opened_at)
        for execution in saved.executions:
            ticket = execution.attempt_id if execution.unverified else None
            self.guard.restore_execution(execution.request, execution.started_at, ticket)
            if ticket is not None:
                self._awaiting_outcome[execution.attempt_id] = (execution.request, ticket)

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

    async def recorded_outcome(self, attempt_id: str) -> str | None:
        """The outcome recorded for an executed attempt before a restart, if any."""
        if self.journal is None:
            return None
        return await run_blocking(self.clock, self.journal.store.execution_outcome, attempt_id)

    def awaiting_requests(self) -> dict[str, RepairRequest]:
        """The requests of executed attempts awaiting their outcome, by attempt id."""
        return {key: request for key, (request, _) in self._awaiting_outcome.items()}

    async def abandon(self, attempt_id: str) -> None:
        """Close an executed attempt nobody can verify any more (its owner did not survive a
        restart): outcome ``unknown``, the breaker is not fed, the guard forgets it."""
        request, ticket = self._awaiting_outcome.pop(attempt_id)
        self.guard.drop_ticket(ticket)
        now = self.clock.now()
        await run_blocking(
            self.clock, self.audit.finish, attempt_id, outcome="unknown", finished_at=now
        )
        if self.journal is not None:
            await run_blocking(self.clock, self.journal.finished, attempt_id, "unknown", now)
        log.warning("unverifiable repair %s on %s closed as unknown", attempt_id, request.target)

    async def _act(
        self,
        request: RepairRequest,
        decision: Decision,
        now: datetime,
        approval_id: str | None = None,
    ) -> Attempt:
        waits = decision.decision == "pending_approval"
        executor = self.executors.resolve(request) if decision.allowed or waits else None
        if (decision.allowed or waits) and executor is None:
            reason = self.executors.missing(request)
            decision = Decision(False, "refused", reason, True, Refusal.NO_EXECUTOR)
        elif waits:
            attempt_id = await self._record(request, decision, now, finish=False)
            entry = self.approvals.entry_for(attempt_id, request, now)
            await self._write(self._journal_approval, entry, None)  # durable, then visible
            self.approvals.restore(entry)
            return _attempt(attempt_id, request, decision, approval_id=attempt_id)
        if executor is None or not decision.allowed:
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
        if self.journal is not None:  # durable before the executor touches anything
            await run_blocking(self.clock, self.journal.executed, attempt_id, request, now)
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
        if self.journal is not None:  # the breaker is durable before the audit shows why
            await run_blocking(self.clock, self._journal_breaker, request.target, now)
            await run_blocking(self.clock, self.journal.finished, attempt_id, outcome, now)
        await run_blocking(
            self.clock, self.audit.finish, attempt_id, outcome=outcome, finished_at=now
        )
        if opened:
            log.warning("circuit breaker opened for %s: escalate", request.target)
        return OutcomeRecorded(attempt_id, request, worked, opened)

    async def _answer(self, entry: PendingApproval, attempt: Attempt) -> None:
        self._answered[entry.approval_id] = attempt
        await self._write(self._journal_approval, self.approvals.get(entry.approval_id), attempt)

    async def _write(self, write: Callable[..., None], *args: Any) -> None:
        """Run a journal write off the event loop (nothing to do without a journal)."""
        if self.journal is not None:
            await run_blocking(self.clock, write, *args)

    def _journal_approval(self, entry: PendingApproval, answer: Attempt | None) -> None:
        assert self.journal is not None
        self.journal.approval(entry, answer)

    def _journal_breaker(self, target: str, now: datetime) -> None:
        assert self.journal is not None
        failures, opened_at = self.guard.breaker_state(target)
        self.journal.breaker(target, failures, opened_at, now)

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
