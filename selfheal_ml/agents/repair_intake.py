"""The Repair agent's intake: what a diagnosis (first or revised) does to its repair case.

A first diagnosis opens a :class:`~selfheal_ml.repair.case.RepairCase` with its plan and takes
the first step, unless the Performance agent is to analyse the slow query first
(:class:`~selfheal_ml.agents.analysis_handoff.AnalysisHandOff`). A revision re-aims the case
(:meth:`RepairCase.revise`); an unstarted case may then wait for that analysis, and a case
escalated for want of a plan resumes once a revision brings one. A diagnosis that another
agent enforces (an attack: the Security agent bans) opens no case.
"""

from __future__ import annotations

from selfheal_ml.agents.analysis_handoff import AnalysisHandOff
from selfheal_ml.agents.repair_plan import RepairPlanner
from selfheal_ml.agents.repair_steps import RepairSteps
from selfheal_ml.clock import Clock, run_blocking
from selfheal_ml.events import Event, IncidentDiagnosed
from selfheal_ml.repair.case import RepairCase


class RepairIntake:
    """Turns ``IncidentDiagnosed`` into new or revised cases (module docstring)."""

    def __init__(
        self, planner: RepairPlanner, steps: RepairSteps, handoff: AnalysisHandOff, clock: Clock
    ) -> None:
        self.planner = planner
        self.steps = steps
        self.handoff = handoff
        self.clock = clock

    async def take(self, event: IncidentDiagnosed, cases: dict[str, RepairCase]) -> list[Event]:
        """Open or revise the case of ``event``'s incident in ``cases``; the events of any step
        taken now."""
        diagnosis = event.diagnosis
        if diagnosis.enforced_by is not None:
            return []  # another agent carries the fix out (an attack: the Security agent)
        case = cases.get(event.incident_id)
        plan = await run_blocking(self.clock, self.planner.plan, diagnosis)
        if case is not None:
            if not case.revise(diagnosis, plan):
                return []
            unstarted = case.state in ("ready", "escalated") and not case.tried
            if unstarted and self.handoff.hold(case, diagnosis, event.ts):
                case.state = "ready"
                return []
            if case.state == "escalated" and not case.tried and case.plan:
                case.state = "ready"  # escalated for want of a plan; now there is one
                return await self.steps.advance(case, event.ts)
            return []
        case = RepairCase.of(event.incident_id, event.correlation_id, diagnosis, plan)
        cases[event.incident_id] = case
        if self.handoff.hold(case, diagnosis, event.ts):
            return []  # the Performance agent analyses the slow query first
        return await self.steps.advance(case, event.ts)
