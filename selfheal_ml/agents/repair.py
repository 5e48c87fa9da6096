"""The Repair agent: fixes diagnosed incidents through the one safety guard, and verifies.

On ``IncidentDiagnosed`` it plans (:func:`selfheal_ml.repair.strategy.plan_repair`: a learned
playbook with a good record, then the classifier, then the runbook's known fix; nothing
plausible means a human) and works the plan one step at a time:

1. **Still broken?** Before each action it checks the incident's trigger signals on the latest
   collection. An incident that recovered by itself gets no repair: nothing is done to a
   healthy target (it stays watched for :data:`RECOVERED_WATCH_S`: if it breaks again, the
   plan resumes). An incident with no live signal to watch (only a predicted breach) is
   handed to a person: a repair that cannot be verified is not attempted. An incident with no
   plausible strategy yet waits ``plan_wait_s`` for a revised diagnosis (the cause's own
   signal often arrives a check or two after the first alert) before it is escalated, and an
   escalated one resumes when a later diagnosis brings a strategy.
2. **Propose** the step's action through the ``repair_service`` (guard, executor, audit log).
   ``executed`` starts verification; ``pending_approval`` waits for a human (and escalates
   when the approval times out or is denied); a refusal for cooldown, rate limit or blast
   radius is retried on later ticks for up to ``retry_for_s``; any other refusal (allow-list,
   breaker, no executor) escalates; ``dry_run`` executes nothing and hands over to a human.
3. **Verify**: the trigger signals (a threshold alert that must clear; a series that must come
   back inside its expected range, with a tolerance of a quarter of the range) recovered on
   ``recovery_checks`` consecutive collections within the verification window (``verify_s``,
   longer for strategies with slow side effects, :data:`VERIFY_S`) = worked. Else it did
   not, and the next step follows; the guard's circuit breaker opening stops the loop.

Each verified attempt is published as ``RepairExecuted`` (``action`` is the strategy name, which
is what the Learning agent's playbooks count); giving up is published once per incident as
``RepairEscalated``.

Ports (``AgentContext.extras``): ``repair_service`` (RepairService; without it the agent only
plans and escalates), ``incidents`` (IncidentStore, for playbooks), ``strategy_actions`` (maps a
strategy to the executor action that carries it out, by default the strategy itself or, when
no executor serves that name, :data:`STRATEGY_ACTIONS`), ``strategy_params`` (default
executor parameters per strategy, e.g. ``{"reset_db_connections": {"older_than_s": 60}}``;
what the Diagnostic agent's investigators found, ``details["action_params"][strategy]``, wins),
``repair`` (numbers: ``verify_s`` 300, ``recovery_checks`` 2, ``retry_for_s`` 900,
``plan_wait_s`` 180).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from selfheal_ml.actions import TRANSIENT_REFUSALS, Attempt, RepairRequest, RepairService
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis.observations import alert_key
from selfheal_ml.events import (
    AlertRaised,
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    RepairEscalated,
    RepairExecuted,
    Tick,
)
from selfheal_ml.repair.playbook import PlaybookEntry
from selfheal_ml.repair.recommend import RankedStrategy, Recommendation
from selfheal_ml.repair.strategy import PlannedStep, PlanPolicy, plan_repair
from selfheal_ml.storage.incidents import IncidentStore

#: Real executors' actions for strategies that have no executor of the same name.
STRATEGY_ACTIONS: Mapping[str, str] = {
    "reset_db_connections": "pg_terminate_idle",
    "add_index": "pg_create_index_concurrently",
    "reindex": "pg_reindex",
    "clear_cache": "redis_memory_purge",
    "restart_service": "restart_process",
}
DEFAULTS: dict[str, float] = {
    "verify_s": 300.0,
    "recovery_checks": 2,
    "retry_for_s": 900.0,
    "plan_wait_s": 180.0,
}
#: Strategies whose own side effects outlast the default window: a flushed cache is cold for
#: about 10 min, a restore takes the database away for a minute, an index build or a new
#: instance takes a few minutes to show.
VERIFY_S: Mapping[str, float] = {
    "clear_cache": 900.0,
    "restore_from_backup": 600.0,
    "add_index": 600.0,
    "reindex": 600.0,
    "scale_out": 600.0,
}
RANGE_TOLERANCE = 0.25

State = Literal["ready", "retry", "approval", "verifying", "recovered", "resolved", "escalated"]
#: How long an incident that recovered before any repair stays watched: if it breaks again
#: within this time (a flapping alert), the plan resumes.
RECOVERED_WATCH_S = 1800.0


@dataclass
class RepairCase:
    """One incident the agent is working on."""

    incident_id: str
    correlation_id: str
    target: str
    platform: str
    triggers: list[dict[str, Any]]
    plan: list[PlannedStep]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # by strategy
    tried: list[str] = field(default_factory=list)
    state: State = "ready"
    step: PlannedStep | None = None
    attempt_id: str | None = None
    approval_id: str | None = None
    approved_by: str | None = None
    started_at: datetime | None = None
    deadline: datetime | None = None
    retry_since: datetime | None = None
    recovered_streak: int = 0
    recovered_at: datetime | None = None
    planless_since: datetime | None = None  # waiting for a diagnosis that names a strategy


def _target_of(event: IncidentDiagnosed) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(target, its platform, executor parameters per strategy) of a diagnosis."""
    details = event.details
    target = str(details.get("target") or (event.platforms[0] if event.platforms else "unknown"))
    params = {
        strategy: dict(values)
        for strategy, values in (details.get("action_params") or {}).items()
        if isinstance(values, Mapping)
    }
    return target, str(details.get("target_platform") or target), params


class RepairAgent(Agent):
    """Plans, executes (guarded) and verifies repairs (see module doc)."""

    name: ClassVar[str] = "Repair"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        IncidentDiagnosed,
        MetricsCollected,
        AlertRaised,
        Tick,
    )

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.service: RepairService | None = extras.get("repair_service")
        self.incidents: IncidentStore | None = extras.get("incidents")
        self.strategy_actions: Mapping[str, str] | None = extras.get("strategy_actions")
        self.strategy_params: Mapping[str, Mapping[str, Any]] = extras.get("strategy_params") or {}
        self.numbers: dict[str, float] = {**DEFAULTS, **extras.get("repair", {})}
        self.policy: PlanPolicy = extras.get("plan_policy") or PlanPolicy()
        self.cases: dict[str, RepairCase] = {}
        self.values: dict[str, tuple[datetime, float]] = {}
        self.firing: set[str] = set()
        self.escalated: set[str] = set()

    # ---- events --------------------------------------------------------------------------
    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, MetricsCollected):
            self._remember(event)
            return await self._verify_all(event.ts)
        if isinstance(event, AlertRaised):
            key = alert_key(event.alertname, event.labels)
            (self.firing.add if event.firing else self.firing.discard)(key)
            return []
        if isinstance(event, IncidentDiagnosed):
            return await self._on_diagnosis(event)
        if isinstance(event, Tick) and event.kind == "health":
            return await self._on_tick(event.ts)
        return []

    def _remember(self, event: MetricsCollected) -> None:
        watched = {
            trigger["series"]
            for case in self.cases.values()
            if case.state not in ("resolved", "escalated")
            for trigger in case.triggers
            if trigger["kind"] == "range"
        }
        if not watched:
            return
        for point in event.points:
            if point.series in watched:
                self.values[point.series] = (point.ts, point.value)

    async def _on_diagnosis(self, event: IncidentDiagnosed) -> list[Event]:
        details = event.details
        case = self.cases.get(event.incident_id)
        plan = await run_blocking(self.context.clock, self._plan, event)
        target, platform, params = _target_of(event)
        if case is not None:
            if case.state == "resolved":
                return []
            case.plan = [step for step in plan if step.strategy not in case.tried]
            case.triggers = list(details.get("triggers") or case.triggers)
            if case.state in ("ready", "escalated", "recovered") and not case.tried:
                # nothing done yet: the revision may have moved the cause (the platform's
                # latency first, then the database's slow queries behind it)
                case.target, case.platform, case.params = target, platform, params
            if case.state == "escalated" and not case.tried and case.plan:
                case.state = "ready"  # escalated for want of a plan; now there is one
                return await self._advance(case, event.ts)
            return []
        case = RepairCase(
            incident_id=event.incident_id,
            correlation_id=event.correlation_id,
            target=target,
            platform=platform,
            triggers=list(details.get("triggers") or []),
            plan=plan,
            params=params,
        )
        self.cases[event.incident_id] = case
        for trigger in case.triggers:  # values kept from an earlier incident are stale
            if trigger["kind"] == "range":
                self.values.pop(trigger["series"], None)
        return await self._advance(case, event.ts)

    async def _on_tick(self, now: datetime) -> list[Event]:
        produced: list[Event] = []
        if self.service is not None:
            await self.service.expire_pending(now)
        for case in list(self.cases.values()):
            if case.state == "approval":
                produced += await self._check_approval(case, now)
            elif case.state in ("retry", "ready"):
                produced += await self._advance(case, now)
            elif case.state == "recovered":
                produced += await self._watch_recovered(case, now)
        self._forget_finished()
        return produced

    async def _verify_all(self, now: datetime) -> list[Event]:
        """Judge every repair under verification on the collection that just arrived."""
        produced: list[Event] = []
        for case in list(self.cases.values()):
            if case.state == "verifying":
                produced += await self._verify(case, now)
        return produced

    # ---- planning ------------------------------------------------------------------------
    def _plan(self, event: IncidentDiagnosed) -> list[PlannedStep]:
        details = event.details
        signature = details.get("signature")
        playbook: list[PlaybookEntry] = []
        if self.incidents is not None and isinstance(signature, str):
            playbook = self.incidents.playbook(signature)
        candidates = [
            (str(c["cause"]), str(c["strategy"]), float(c["score"]))
            for c in details.get("candidates") or []
        ]
        return plan_repair(
            playbook, _recommendation(details.get("recommendation")), candidates,
            event.confidence, self._policy_with_risks(),
        )  # fmt: skip

    def _policy_with_risks(self) -> PlanPolicy:
        """The plan policy, knowing which strategies need approval (their action's tier)."""
        if self.service is None or self.policy.high_risk:
            return self.policy
        tiers = self.service.guard.policy.risk_tiers
        risky = frozenset(name for name in tiers if tiers.get(self._action_for(name)) == "high")
        return replace(self.policy, high_risk=risky)

    def _action_for(self, strategy: str) -> str:
        if self.strategy_actions is not None and strategy in self.strategy_actions:
            return self.strategy_actions[strategy]
        executors = self.service.executors if self.service is not None else {}
        if strategy not in executors and strategy in STRATEGY_ACTIONS:
            return STRATEGY_ACTIONS[strategy]
        return strategy

    # ---- acting --------------------------------------------------------------------------
    async def _advance(self, case: RepairCase, now: datetime) -> list[Event]:
        """Take the next step of the plan (or retry the current one)."""
        if case.state == "ready":
            if not case.triggers:
                return self._escalate(
                    case, now, "no live signal to verify a repair against (e.g. only a"
                    " predicted breach); a person must decide",
                )  # fmt: skip
            if self._recovered(case, since=None):
                case.state, case.recovered_at = "recovered", now
                self.log.info("incident %s recovered before any repair", case.incident_id)
                return []
            if not case.plan:
                if case.tried:
                    reason = f"tried {', '.join(case.tried)} without recovery; a person must look"
                    return self._escalate(case, now, reason)
                case.planless_since = case.planless_since or now
                waited_s = (now - case.planless_since).total_seconds()
                if waited_s < self.numbers["plan_wait_s"]:
                    return []  # a revised diagnosis may still name the cause (next ticks)
                reason = (
                    f"no repair strategy is plausible enough after {waited_s:.0f} s of"
                    " diagnosis; a person must look"
                )
                return self._escalate(case, now, reason)
            case.step, case.approved_by = case.plan.pop(0), None
        step = case.step
        assert step is not None
        if self.service is None:
            return self._escalate(case, now, f"no repair service: {step.strategy} not attempted")
        request = RepairRequest(
            incident_id=case.incident_id,
            correlation_id=case.correlation_id,
            action=self._action_for(step.strategy),
            target=case.target,
            platform=case.platform,
            params={**self.strategy_params.get(step.strategy, {}),
                    **case.params.get(step.strategy, {})},
        )  # fmt: skip
        attempt = await self.service.propose(request)
        return self._after_attempt(case, attempt, now)

    def _after_attempt(self, case: RepairCase, attempt: Attempt, now: datetime) -> list[Event]:
        step = case.step
        assert step is not None
        if attempt.decision == "executed" and attempt.result is not None and attempt.result.ok:
            case.state, case.attempt_id = "verifying", attempt.attempt_id
            case.started_at, case.recovered_streak = now, 0
            window_s = VERIFY_S.get(step.strategy, self.numbers["verify_s"])
            case.deadline = now + timedelta(seconds=max(window_s, self.numbers["verify_s"]))
            case.tried.append(step.strategy)
            return []
        if attempt.decision == "executed":  # the executor failed: audited as did_not_work
            case.tried.append(step.strategy)
            case.state = "ready"
            failed = self._executed(case, step.strategy, "did_not_work", now)
            if attempt.escalated:
                return [failed, *self._escalate(case, now, "circuit breaker opened")]
            return [failed]
        if attempt.decision == "pending_approval":
            case.state, case.approval_id = "approval", attempt.approval_id
            return []
        if attempt.decision == "dry_run":
            return self._escalate(case, now, f"dry run: would have run {step.strategy}")
        if not attempt.escalated and attempt.refusal in TRANSIENT_REFUSALS:
            case.retry_since = case.retry_since or now
            if now - case.retry_since < timedelta(seconds=self.numbers["retry_for_s"]):
                case.state = "retry"
                return []
            return self._escalate(case, now, f"{step.strategy} refused too long: {attempt.reason}")
        case.tried.append(step.strategy)
        if attempt.escalated:
            return self._escalate(case, now, f"{step.strategy}: {attempt.reason}")
        case.state = "ready"
        return []

    async def _watch_recovered(self, case: RepairCase, now: datetime) -> list[Event]:
        """An incident that recovered by itself: resume the plan if it breaks again soon."""
        assert case.recovered_at is not None
        if (now - case.recovered_at).total_seconds() > RECOVERED_WATCH_S:
            case.state = "resolved"
            return []
        if self._recovered(case, since=None):
            return []
        case.state = "ready"
        return await self._advance(case, now)

    async def _check_approval(self, case: RepairCase, now: datetime) -> list[Event]:
        assert self.service is not None and case.approval_id is not None
        answer = self.service.answer(case.approval_id)
        if answer is None:
            return []
        if answer.decision in ("denied", "expired"):
            return self._escalate(case, now, f"{answer.decision}: {answer.reason}")
        case.approved_by = self.service.approvals.get(case.approval_id).resolved_by
        return self._after_attempt(case, answer, now)

    async def _verify(self, case: RepairCase, now: datetime) -> list[Event]:
        assert self.service is not None and case.attempt_id is not None
        step = case.step
        assert step is not None
        recovered = self._recovered(case, since=case.started_at)
        case.recovered_streak = case.recovered_streak + 1 if recovered else 0
        worked = case.recovered_streak >= self.numbers["recovery_checks"]
        if not worked and case.deadline is not None and now < case.deadline:
            return []
        outcome = await self.service.record_outcome(case.attempt_id, worked)
        produced: list[Event] = [
            self._executed(case, step.strategy, "worked" if worked else "did_not_work", now)
        ]
        case.attempt_id = None
        if worked:
            case.state = "resolved"
            return produced
        case.state = "ready"
        if outcome.breaker_opened:
            return produced + self._escalate(
                case, now, f"circuit breaker opened on {case.target}: repairs stopped"
            )
        return produced + await self._advance(case, now)

    def _recovered(self, case: RepairCase, since: datetime | None) -> bool:
        """Whether every trigger looks healthy (on values newer than ``since``)."""
        if not case.triggers:
            return False
        for trigger in case.triggers:
            if trigger["kind"] == "alert":
                if trigger["key"] in self.firing:
                    return False
                continue
            seen = self.values.get(trigger["series"])
            if seen is None or (since is not None and seen[0] <= since):
                return False
            if not _inside(seen[1], trigger.get("low"), trigger.get("high")):
                return False
        return True

    # ---- outcomes ------------------------------------------------------------------------
    def _executed(
        self,
        case: RepairCase,
        strategy: str,
        outcome: Literal["worked", "did_not_work", "unknown"],
        now: datetime,
    ) -> RepairExecuted:
        return RepairExecuted(
            ts=now,
            source=self.name,
            correlation_id=case.correlation_id,
            incident_id=case.incident_id,
            action=strategy,
            target=case.target,
            outcome=outcome,
            approved_by=case.approved_by,
        )

    def _escalate(self, case: RepairCase, now: datetime, reason: str) -> list[Event]:
        case.state = "escalated"
        if case.incident_id in self.escalated:
            return []
        self.escalated.add(case.incident_id)
        self.log.warning("incident %s escalated: %s", case.incident_id, reason)
        return [
            RepairEscalated(
                ts=now,
                source=self.name,
                correlation_id=case.correlation_id,
                incident_id=case.incident_id,
                reason=reason,
            )
        ]

    def _forget_finished(self, keep: int = 1000) -> None:
        finished = [k for k, c in self.cases.items() if c.state in ("resolved", "escalated")]
        for incident_id in finished[: max(0, len(finished) - keep)]:
            del self.cases[incident_id]


def _inside(value: float, low: Any, high: Any) -> bool:
    """``value`` within ``[low, high]`` widened by a quarter of the range on each side."""
    low_f = float(low) if isinstance(low, int | float) else -math.inf
    high_f = float(high) if isinstance(high, int | float) else math.inf
    if math.isfinite(low_f) and math.isfinite(high_f):
        slack = RANGE_TOLERANCE * max(high_f - low_f, 1e-9 + 0.01 * abs(high_f))
        low_f, high_f = low_f - slack, high_f + slack
    return low_f <= value <= high_f


def _recommendation(raw: Any) -> Recommendation | None:
    """The classifier's answer as the Diagnostic agent put it in ``details``."""
    if not isinstance(raw, Mapping):
        return None
    strategies = tuple(
        RankedStrategy(str(item["strategy"]), float(item["probability"]))
        for item in raw.get("strategies") or []
    )
    return Recommendation(
        strategies=strategies,
        model_version=raw.get("model_version"),
        fallback=bool(raw.get("fallback", True)),
        needs_human_confirmation=bool(raw.get("needs_human_confirmation", True)),
        reason=str(raw.get("reason", "")),
    )
