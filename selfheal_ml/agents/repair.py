"""The Repair agent: fixes diagnosed incidents through the one safety guard, and verifies.

On ``IncidentDiagnosed`` it plans (:mod:`selfheal_ml.agents.repair_plan`: proven playbook,
classifier, runbook; least risk first) and opens or revises a ``RepairCase``
(:mod:`selfheal_ml.agents.repair_intake`), then works the plan step by step:

1. **Still broken?** Before each action it checks the diagnosis' triggers on the latest
   collection (values seen within ``fresh_s``; the agent keeps the latest value of every
   series, so a diagnosis is checked on the collections made while it settled: a 5xx burst
   or a leak that ended in that minute is not repaired). An incident whose signals recovered
   before any repair closes as *recovered*: nothing is done to a healthy target. An incident
   with no live signal to watch (only a predicted breach) goes to a person: a repair that
   cannot be verified is not attempted. One with no plausible strategy yet waits
   ``plan_wait_s`` for a revised diagnosis, then is escalated (and resumes if a later
   revision brings a strategy).
2. **Propose** the step through the ``repair_service`` (guard, executor, audit log):
   ``executed`` starts verification; ``pending_approval`` waits for a person (escalates when
   denied or expired); a transient refusal (:data:`~selfheal_ml.actions.TRANSIENT_REFUSALS`)
   is retried for up to ``retry_for_s``, each retry after the check of step 1 (a fault that
   ended while the guard deferred its fix gets none); any other refusal escalates; ``dry_run``
   hands over.
3. **Verify**: the triggers recovered on ``recovery_checks`` consecutive collections within
   ``verify_s`` (longer for slow strategies, :data:`VERIFY_FACTOR`) = worked, else the next step.

Scenario 2: a slow-query case on a database the Performance agent watches waits (at most
``analysis_wait_s``, 60 s) for its analysis; the ``missing_index`` finding of the incident
becomes the ``add_index`` step's parameters (:mod:`selfheal_ml.agents.analysis_handoff`).

Events: ``RepairExecuted`` per verified attempt, one ``RepairEscalated`` per incident given
up, an ``IncidentStatusChanged`` per move in the lifecycle. Cases are kept in DuckDB after
every event (``repair_cases`` port) and open ones resume after a restart
(:mod:`selfheal_ml.agents.repair_memory`).

Ports (``AgentContext.extras``): ``repair_service``, ``incidents`` (for playbooks),
``strategy_actions`` (strategy -> executor action; default the strategy itself or
:data:`~selfheal_ml.agents.repair_plan.STRATEGY_ACTIONS`), ``strategy_params`` (default
executor parameters per strategy; the diagnosis' ``parameters`` win), ``repair`` (numbers:
``verify_s`` 300, ``recovery_checks`` 2, ``retry_for_s`` 900, ``plan_wait_s`` 180,
``analysis_wait_s`` 60, ``fresh_s`` 75: two and a half collection intervals),
``plan_policy``, ``performance_analysers`` (the databases watched).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from selfheal_ml.agents.analysis_handoff import DEFAULT_WAIT_S, AnalysisHandOff
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.repair_intake import RepairIntake
from selfheal_ml.agents.repair_memory import CaseMemory
from selfheal_ml.agents.repair_plan import RepairPlanner
from selfheal_ml.agents.repair_steps import RepairSteps
from selfheal_ml.diagnosis.observations import alert_key
from selfheal_ml.events import (
    AlertRaised,
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    OptimizationFound,
    Tick,
)
from selfheal_ml.repair.case import VERIFY_FACTOR, RepairCase, status_changes
from selfheal_ml.repair.strategy import PlanPolicy

DEFAULTS: dict[str, float] = {
    "verify_s": 300.0, "recovery_checks": 2, "retry_for_s": 900.0, "plan_wait_s": 180.0,
    "analysis_wait_s": DEFAULT_WAIT_S, "fresh_s": 75.0,
}  # fmt: skip


class RepairAgent(Agent):
    """Plans, executes (guarded) and verifies repairs (see module doc)."""

    name: ClassVar[str] = "Repair"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        IncidentDiagnosed, MetricsCollected, AlertRaised, Tick, OptimizationFound,
    )  # fmt: skip

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.service = extras.get("repair_service")
        self.numbers: dict[str, float] = {**DEFAULTS, **extras.get("repair", {})}
        self.planner = RepairPlanner(
            self.service, extras.get("incidents"), extras.get("plan_policy") or PlanPolicy(),
            extras.get("strategy_actions"),
        )  # fmt: skip
        self.cases: dict[str, RepairCase] = {}
        self.memory = CaseMemory(extras.get("repair_cases"), context.clock)
        self.steps = RepairSteps(
            self.name, self.service, self.planner.action_for, self.numbers, VERIFY_FACTOR,
            extras.get("strategy_params") or {}, self.log, self.memory.save_case,
        )  # fmt: skip
        self._one_at_a_time = asyncio.Lock()
        self.handoff = AnalysisHandOff(
            frozenset(extras.get("performance_analysers") or {}), self.numbers["analysis_wait_s"]
        )
        self.intake = RepairIntake(self.planner, self.steps, self.handoff, context.clock)

    async def start(self) -> None:
        """Resume the open cases kept before the process restarted (once per process)."""
        await self.memory.resume(
            self.cases, self.service, self.planner.action_for, self.steps.window_s
        )

    async def handle(self, event: Event) -> list[Event]:
        # one event at a time: the bus runs one worker per subscription, and a Tick handled
        # while a diagnosis' repair runs would take the plan's next step on the same case
        async with self._one_at_a_time:
            before = {key: case.state for key, case in self.cases.items()}
            produced = await self._dispatch(event)
            await self.memory.save_changed(self.cases, event.ts)
            return produced + status_changes(self.cases, before, self.name, event.ts)

    async def _dispatch(self, event: Event) -> list[Event]:
        if isinstance(event, MetricsCollected):
            self.steps.remember(event)
            return await self.steps.verify_all(self.cases.values(), event.ts)
        if isinstance(event, AlertRaised):
            key = alert_key(event.alertname, event.labels)
            (self.steps.firing.add if event.firing else self.steps.firing.discard)(key)
            return []
        if isinstance(event, IncidentDiagnosed):
            return await self.intake.take(event, self.cases)
        if isinstance(event, OptimizationFound):
            released = self.handoff.take(event, self.cases.values())
            if released is None or released.state != "ready":
                return []
            return await self.steps.advance(released, event.ts)
        if isinstance(event, Tick) and event.kind == "health":
            return await self._on_tick(event.ts)
        return []

    async def _on_tick(self, now: datetime) -> list[Event]:
        produced: list[Event] = []
        if self.service is not None:
            await self.service.expire_pending(now)
        for case in list(self.cases.values()):
            if case.state == "approval":
                produced += await self.steps.check_approval(case, now)
            elif case.state in ("retry", "ready") and not self.handoff.held(case, now):
                produced += await self.steps.advance(case, now)
        self._forget_finished()
        return produced

    def _forget_finished(self, keep: int = 1000) -> None:
        finished = [key for key, case in self.cases.items() if case.finished]
        for incident_id in finished[: max(0, len(finished) - keep)]:
            del self.cases[incident_id]
