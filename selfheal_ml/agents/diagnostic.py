"""The Diagnostic agent: turns scattered alerts and anomalies into diagnosed incidents.

It listens to the signs of trouble (``AnomalyDetected``, firing ``AlertRaised``,
``BreachPredicted``), groups them into incidents with the dependency graph
(:mod:`selfheal_ml.diagnosis.grouping`), and on the next health tick at least ``settle_s`` after
an incident opened it diagnoses those that qualify (:mod:`selfheal_ml.diagnosis.triage`):
ranks root-cause candidates (dependency-aware, lead-lag, recent configuration changes), finds
similar past incidents, asks the repair classifier and the investigators (which table lacks
which index), and publishes ``IncidentDiagnosed`` with a typed
:class:`~selfheal_ml.lifecycle.Diagnosis` (:func:`selfheal_ml.diagnosis.report.compose_diagnosis`).
A group of anomalies that matches no known signature and breaks no threshold stays anomalies,
not an incident. When later evidence moves the top candidate, a new revision is published.
An incident that resolved or recovered leaves the grouper at once: a new fault
never joins it.

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore: similar incidents,
recurrence), ``repair_model`` (RepairRecommender), ``investigators`` (Investigator list),
``change_log`` (a callable returning recent configuration changes with ``ts``, ``platform``),
``diagnosis`` (:class:`~selfheal_ml.diagnosis.triage.TriagePolicy` numbers) and ``platforms``
(the platform names, to address an action on a shared dependency).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.evidence import EvidenceGatherer
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import (
    IncidentGrouper,
    OpenIncident,
    Topology,
    from_alert,
    from_anomaly,
    from_breach,
)
from selfheal_ml.diagnosis.investigation import Finding, Investigator
from selfheal_ml.diagnosis.root_cause import Candidate
from selfheal_ml.diagnosis.triage import (
    TriagePolicy,
    awaits_shared_evidence,
    common_cause_group,
    lone_anomaly,
    qualifies,
    still_outside,
)
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    MetricsCollected,
    RepairExecuted,
    Tick,
)

INVESTIGATION_TIMEOUT_S = 15.0


class DiagnosticAgent(Agent):
    """Groups signs of trouble into incidents and diagnoses them (see module doc)."""

    name: ClassVar[str] = "Diagnostic"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        AnomalyDetected, AlertRaised, BreachPredicted, MetricsCollected, Tick,
        IncidentStatusChanged, RepairExecuted,
    )  # fmt: skip

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.policy = TriagePolicy.of(extras.get("diagnosis", {}))
        self.grouper = IncidentGrouper(Topology(), self.policy.window_s, self.policy.quiet_s)
        self.gatherer = EvidenceGatherer(
            incidents=extras.get("incidents"),
            recommender=extras.get("repair_model"),
            change_log=extras.get("change_log"),
            platform_names=sorted(extras.get("platforms") or []),
        )
        self.investigators: list[Investigator] = list(extras.get("investigators") or [])
        self.revisions: dict[str, int] = {}
        self.top_cause: dict[str, str] = {}
        self.persisting: dict[str, int] = {}  # incident id -> consecutive checks outside range
        self.waited: dict[str, int] = {}  # incident id -> checks waited for shared evidence
        self.diagnosed = 0

    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, Tick):
            return await self._on_tick(event) if event.kind == "health" else []
        if isinstance(event, MetricsCollected):
            self._check_persistence(event)
        elif isinstance(event, IncidentStatusChanged | RepairExecuted):
            self._forget_if_over(event)
        elif isinstance(event, AnomalyDetected):
            self.grouper.add(from_anomaly(event))
        elif isinstance(event, AlertRaised) and (observation := from_alert(event)) is not None:
            self.grouper.add(observation)
        elif isinstance(event, BreachPredicted):
            self.grouper.add(from_breach(event))
        return []

    def _forget_if_over(self, event: IncidentStatusChanged | RepairExecuted) -> None:
        """A resolved or recovered incident takes no new signs of trouble (an escalated one
        stays open: a later revision that names a strategy resumes its repair)."""
        if isinstance(event, IncidentStatusChanged) and not event.status.closed:
            return
        if isinstance(event, RepairExecuted) and event.outcome != "worked":
            return
        self.grouper.close(event.incident_id)

    def _check_persistence(self, event: MetricsCollected) -> None:
        """Count, for each lone-anomaly incident, how long its series stays out of range."""
        watched = {
            lone.series: (incident.incident_id, lone)
            for incident in self.grouper.open.values()
            if (lone := lone_anomaly(incident)) is not None
        }
        for point in event.points if watched else ():
            if (found := watched.get(point.series)) is not None:
                incident_id, lone = found
                outside = still_outside(lone, point.value)
                self.persisting[incident_id] = (
                    self.persisting.get(incident_id, 0) + 1 if outside else 0
                )

    async def _on_tick(self, tick: Tick) -> list[Event]:
        produced: list[Event] = []
        group = common_cause_group(self.grouper.open.values())
        if group:
            self.grouper.merge(group)
        for incident in list(self.grouper.open.values()):
            if self._ready(incident, tick.ts):
                diagnosis = await self.diagnose(incident, tick.ts)
                produced += [diagnosis] if diagnosis is not None else []
        self.grouper.close_quiet(tick.ts)
        for book in (self.revisions, self.top_cause, self.persisting, self.waited):
            for incident_id in [key for key in book if key not in self.grouper.open]:
                del book[incident_id]  # closed, or merged into another incident
        return produced

    def _ready(self, incident: OpenIncident, now: datetime) -> bool:
        """Settled, corroborated, not waiting for shared evidence, and something new."""
        settled = now >= incident.opened_at + timedelta(seconds=self.policy.settle_s)
        persisting = self.persisting.get(incident.incident_id, 0)
        if not settled or not qualifies(incident, self.policy, persisting):
            return False
        if incident.diagnosed_at is None:
            waited = self.waited[incident.incident_id] = (
                self.waited.get(incident.incident_id, 0) + 1
            )
            if awaits_shared_evidence(incident, waited, self.policy.max_settle_checks):
                return False
        return incident.diagnosed_at is None or incident.last_seen > incident.diagnosed_at

    async def diagnose(self, incident: OpenIncident, now: datetime) -> IncidentDiagnosed | None:
        """Diagnose ``incident`` (again, if its top candidate changed); ``None`` if unchanged
        or when nothing explains it and no threshold broke."""
        candidates = self.gatherer.candidates(incident)
        top = candidates[0].label if candidates else "unknown"
        unchanged = (
            incident.diagnosed_at is not None and self.top_cause.get(incident.incident_id) == top
        )
        incident.diagnosed_at = now
        if unchanged or (
            not candidates and all(o.source != "alert" for o in incident.observations)
        ):
            return None
        self.top_cause[incident.incident_id] = top
        revision = self.revisions[incident.incident_id] = (
            self.revisions.get(incident.incident_id, 0) + 1
        )
        findings = await self._investigate(candidates[:3], incident)
        evidence = await run_blocking(
            self.context.clock, self.gatherer.gather, incident, candidates, revision, now, findings
        )
        diagnosis = evidence.compose()
        self.diagnosed += 1
        self.log.info(
            "incident %s (revision %d): %s", incident.incident_id, revision, diagnosis.summary
        )
        return IncidentDiagnosed(
            ts=now, source=self.name, correlation_id=incident.correlation_id,
            incident_id=incident.incident_id, diagnosis=diagnosis,
        )  # fmt: skip

    async def _investigate(
        self, candidates: Sequence[Candidate], incident: OpenIncident
    ) -> dict[str, Finding]:
        """Findings by strategy from the investigators the top candidates call for."""
        wanted = {fix for candidate in candidates for fix in candidate.fixes}
        findings: dict[str, Finding] = {}
        for investigator in self.investigators:
            if investigator.strategy not in wanted:
                continue
            try:
                found = await asyncio.wait_for(
                    investigator.investigate(incident.observations), INVESTIGATION_TIMEOUT_S
                )
            except Exception as error:  # an investigation must not stop the diagnosis
                self.log.warning("investigator for %s failed: %s", investigator.strategy, error)
                continue
            if found is not None:
                findings[investigator.strategy] = found
        return findings
