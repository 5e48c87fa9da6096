"""The Repair agent's steps on one case: act through the repair service, verify, escalate.

:class:`RepairSteps` holds what the steps need (the repair service, the latest values of the
watched series, the firing alerts) and moves a :class:`~selfheal_ml.repair.case.RepairCase`
along; the agent (:mod:`selfheal_ml.agents.repair`) routes events to it. Every method returns
the events its step produced (``RepairExecuted``, ``RepairEscalated``, and a
``DisturbanceExpected`` when an action with a known side effect ran).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from selfheal_ml.actions import TRANSIENT_REFUSALS, Attempt, RepairRequest, RepairService
from selfheal_ml.events import Event, MetricsCollected, RepairEscalated, RepairExecuted
from selfheal_ml.repair.case import RepairCase, triggers_recovered
from selfheal_ml.repair.side_effects import announcement, expected_disturbance

Outcome = Literal["worked", "did_not_work", "unknown"]


class RepairSteps:
    """Acting on, verifying and escalating cases (see the module docstring)."""

    def __init__(
        self,
        source: str,
        service: RepairService | None,
        action_for: Callable[[str], str],
        numbers: Mapping[str, float],
        verify_factor: Mapping[str, float],
        strategy_params: Mapping[str, Mapping[str, Any]],
        log: logging.Logger,
        checkpoint: Callable[[RepairCase, datetime], Awaitable[None]] | None = None,
    ) -> None:
        self.source, self.service, self.action_for = source, service, action_for
        self.numbers, self.verify_factor = numbers, verify_factor
        self.strategy_params = strategy_params
        self.log = log
        self.checkpoint = checkpoint  # keeps the case durable before its step is proposed
        self.values: dict[str, tuple[datetime, float]] = {}
        self._pruned_at: datetime | None = None
        self.firing: set[str] = set()
        self.escalated: set[str] = set()

    # ---- what is seen --------------------------------------------------------------------
    def remember(self, event: MetricsCollected) -> None:
        """Keep the latest value of every series collected (not only those a case watches
        now: a diagnosis that arrives later is checked against the values before its first
        step); values older than ``fresh_s`` are dropped now and then."""
        self.values.update((point.series, (point.ts, point.value)) for point in event.points)
        if (
            self._pruned_at is None
            or (event.ts - self._pruned_at).total_seconds() > 10 * (self.numbers["fresh_s"])
        ):
            cutoff = event.ts - timedelta(seconds=self.numbers["fresh_s"])
            self.values = {key: seen for key, seen in self.values.items() if seen[0] >= cutoff}
            self._pruned_at = event.ts

    def recovered(self, case: RepairCase, since: datetime) -> bool:
        """Whether every trigger of the case looks healthy on values newer than ``since``
        (an action's start: what verifies it)."""
        return triggers_recovered(case.triggers, self.values, self.firing, since)

    def healthy_now(self, case: RepairCase, now: datetime) -> bool:
        """Whether every trigger of a case nothing was tried on looks healthy on values seen
        within ``fresh_s`` of ``now``: a series whose target stopped answering keeps a stale
        last value, which never counts as healthy."""
        fresh = now - timedelta(seconds=self.numbers["fresh_s"])
        return triggers_recovered(case.triggers, self.values, self.firing, fresh)

    # ---- acting --------------------------------------------------------------------------
    async def advance(self, case: RepairCase, now: datetime) -> list[Event]:
        """Take the next step of the plan (or retry the current one). Either waits while the
        target looks healthy: a step the guard deferred (a cooldown, the rate limit) is checked
        again before it runs, since the fault may have ended while it waited."""
        if not case.triggers:
            return self.escalate(
                case, now, "no live signal to verify a repair against (e.g. only a"
                " predicted breach); a person must decide",
            )  # fmt: skip
        if self.healthy_now(case, now):
            case.note = "its signals look healthy again; watching before any repair"
            return []  # nothing is done to a healthy target (see watch_untouched)
        if case.state == "ready":
            if not case.plan:
                return self._without_plan(case, now)
            case.take_next_step()
        step = case.step
        assert step is not None
        if self.service is None:
            return self.escalate(case, now, f"no repair service: {step.strategy} not attempted")
        request = RepairRequest(
            incident_id=case.incident_id,
            correlation_id=case.correlation_id,
            action=self.action_for(step.strategy),
            target=case.target,
            platform=case.platform,
            params={**self.strategy_params.get(step.strategy, {}),
                    **case.params.get(step.strategy, {})},
        )  # fmt: skip
        if self.checkpoint is not None:
            await self.checkpoint(case, now)
        return self.after_attempt(case, await self.service.propose(request), now)

    def _without_plan(self, case: RepairCase, now: datetime) -> list[Event]:
        if case.tried:
            reason = f"tried {', '.join(case.tried)} without recovery; a person must look"
            return self.escalate(case, now, reason)
        case.planless_since = case.planless_since or now
        waited_s = (now - case.planless_since).total_seconds()
        if waited_s < self.numbers["plan_wait_s"]:
            return []  # a revised diagnosis may still name the cause (next ticks)
        reason = (
            f"no repair strategy is plausible enough after {waited_s:.0f} s of"
            " diagnosis; a person must look"
        )
        return self.escalate(case, now, reason)

    def after_attempt(self, case: RepairCase, attempt: Attempt, now: datetime) -> list[Event]:
        """Move the case on what the guard and the executor did with its step."""
        step = case.step
        assert step is not None
        if attempt.decision == "executed" and attempt.result is not None and attempt.result.ok:
            case.state, case.attempt_id = "verifying", attempt.attempt_id
            case.started_at, case.recovered_streak = now, 0
            case.deadline = now + timedelta(seconds=self.window_s(step.strategy))
            case.tried.append(step.strategy)
            case.note = f"{step.strategy} ran on {case.target}; verifying"
            return self._side_effect(case, step.strategy, now)
        if attempt.decision == "executed":  # the executor failed: audited as did_not_work
            case.tried.append(step.strategy)
            case.state = "ready"
            failed = self.executed(case, step.strategy, "did_not_work", now)
            if attempt.escalated:
                return [failed, *self.escalate(case, now, "circuit breaker opened")]
            return [failed]
        if attempt.decision == "pending_approval":
            case.state, case.approval_id = "approval", attempt.approval_id
            case.note = f"{step.strategy} on {case.target} waits for a person's approval"
            return []
        if attempt.decision == "dry_run":
            return self.escalate(case, now, f"dry run: would have run {step.strategy}")
        if not attempt.escalated and attempt.refusal in TRANSIENT_REFUSALS:
            case.retry_since = case.retry_since or now
            if now - case.retry_since < timedelta(seconds=self.numbers["retry_for_s"]):
                case.state, case.note = (
                    "retry",
                    f"{step.strategy} refused for now: {attempt.reason}",
                )
                return []
            return self.escalate(case, now, f"{step.strategy} refused too long: {attempt.reason}")
        case.tried.append(step.strategy)
        if attempt.escalated:
            return self.escalate(case, now, f"{step.strategy}: {attempt.reason}")
        case.state = "ready"
        return []

    def _side_effect(self, case: RepairCase, strategy: str, now: datetime) -> list[Event]:
        """The announcement of what ``strategy``, run now, is known to disturb (it shows for
        its duration plus ``fresh_s``: the collections that measure it)."""
        disturbance = expected_disturbance(
            strategy, case.incident_id, case.platform, now, self.numbers["fresh_s"]
        )
        return [] if disturbance is None else [announcement(disturbance, self.source)]

    async def check_approval(self, case: RepairCase, now: datetime) -> list[Event]:
        """Follow a pending approval: denied or expired escalates, approved goes on."""
        assert self.service is not None and case.approval_id is not None
        answer = self.service.answer(case.approval_id)
        if answer is None:
            return []
        if answer.decision in ("denied", "expired"):
            return self.escalate(case, now, f"{answer.decision}: {answer.reason}")
        case.approved_by = self.service.approvals.get(case.approval_id).resolved_by
        return self.after_attempt(case, answer, now)

    # ---- verifying -----------------------------------------------------------------------
    def window_s(self, strategy: str) -> float:
        """How long a repair by ``strategy`` is given to show recovery."""
        return max(1.0, self.verify_factor.get(strategy, 1.0)) * self.numbers["verify_s"]

    async def verify_all(self, cases: Iterable[RepairCase], now: datetime) -> list[Event]:
        """Judge every repair under verification on the collection that just arrived, and
        watch the cases nothing was tried on yet."""
        produced: list[Event] = []
        for case in list(cases):
            if case.state == "verifying":
                produced += await self.verify(case, now)
            elif case.state in ("ready", "retry") and not case.tried:
                self.watch_untouched(case, now)
        return produced

    def watch_untouched(self, case: RepairCase, now: datetime) -> None:
        """A case nothing was tried on whose triggers look healthy on ``recovery_checks``
        consecutive collections closes as recovered (one healthy reading under load is not
        enough: the plan goes on when the signal breaks again before that)."""
        healthy = self.healthy_now(case, now)
        case.recovered_streak = case.recovered_streak + 1 if healthy else 0
        if case.recovered_streak >= self.numbers["recovery_checks"]:
            case.state, case.note = "recovered", "its signals recovered before any repair"
            self.log.info("incident %s recovered before any repair", case.incident_id)

    async def verify(self, case: RepairCase, now: datetime) -> list[Event]:
        """Worked after ``recovery_checks`` healthy collections; else, at the deadline, not."""
        assert self.service is not None and case.attempt_id is not None
        step = case.step
        assert step is not None
        recovered = case.started_at is not None and self.recovered(case, case.started_at)
        case.recovered_streak = case.recovered_streak + 1 if recovered else 0
        worked = case.recovered_streak >= self.numbers["recovery_checks"]
        if not worked and case.deadline is not None and now < case.deadline:
            return []
        outcome = await self.service.record_outcome(case.attempt_id, worked)
        produced: list[Event] = [
            self.executed(case, step.strategy, "worked" if worked else "did_not_work", now)
        ]
        case.attempt_id = None
        if worked:
            case.state, case.note = "resolved", f"{step.strategy} worked"
            return produced
        case.state = "ready"
        if outcome.breaker_opened:
            return produced + self.escalate(
                case, now, f"circuit breaker opened on {case.target}: repairs stopped"
            )
        return produced + await self.advance(case, now)

    # ---- outcomes ------------------------------------------------------------------------
    def executed(
        self, case: RepairCase, strategy: str, outcome: Outcome, now: datetime
    ) -> RepairExecuted:
        """The verified attempt as an event."""
        return RepairExecuted(
            ts=now,
            source=self.source,
            correlation_id=case.correlation_id,
            incident_id=case.incident_id,
            action=strategy,
            target=case.target,
            outcome=outcome,
            approved_by=case.approved_by,
        )

    def escalate(self, case: RepairCase, now: datetime, reason: str) -> list[Event]:
        """Hand the case to a person (published once per incident)."""
        case.state, case.note = "escalated", reason
        if case.incident_id in self.escalated:
            return []
        self.escalated.add(case.incident_id)
        self.log.warning("incident %s escalated: %s", case.incident_id, reason)
        return [
            RepairEscalated(
                ts=now,
                source=self.source,
                correlation_id=case.correlation_id,
                incident_id=case.incident_id,
                reason=reason,
            )
        ]
