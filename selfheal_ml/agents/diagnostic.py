"""The Diagnostic agent: turns scattered alerts and anomalies into diagnosed incidents.

It groups the signs of trouble (``AnomalyDetected``, firing ``AlertRaised``,
``BreachPredicted``) into incidents with the dependency graph
(:mod:`selfheal_ml.diagnosis.grouping`). On each health tick it diagnoses the incidents that
are ready (:class:`~selfheal_ml.diagnosis.triage.Readiness`: settled ``settle_s``,
corroborated, not waiting for shared evidence) and publishes ``IncidentDiagnosed``, numbered
by :class:`~selfheal_ml.diagnosis.revisions.RevisionBook`: again only when later evidence
moves the top candidate, never for anomalies that match no signature and break no threshold.
The diagnosis is composed from what :class:`~selfheal_ml.agents.evidence.EvidenceGatherer`
(candidates, history, classifier) and :class:`~selfheal_ml.agents.investigations.Investigations`
find. A resolved or recovered incident leaves the grouper at once: a new fault never joins it.

Attacks the Security agent confirms (``SecurityThreatDetected``, critical) are incidents of
their own, already explained by their finding: diagnosed at once, verifying once banned,
resolved when the banned addresses stop (:mod:`selfheal_ml.agents.attack_incidents`). One
attack is one incident: when the Monitor's signs of the same attack (failed logins on the
attack's platform within the grouping window, :mod:`selfheal_ml.diagnosis.attack_merge`) make
an incident, it takes the attack incident's ids before its first diagnosis, which becomes the
attack incident's next revision (the Repair agent then carries it); an attack found after the
Monitor's incident was diagnosed joins that incident instead.

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore), ``repair_model``
(RepairRecommender), ``investigators`` (Investigator list), ``change_log`` (a callable
returning recent configuration changes with ``ts``, ``platform``), ``diagnosis``
(:class:`~selfheal_ml.diagnosis.triage.TriagePolicy` numbers), ``platforms`` (the platform
names, to address an action on a shared dependency) and ``attack_quiet_s`` (600 s: an attack
incident without a ban in force is escalated after that long without a new finding).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from selfheal_ml.agents.attack_incidents import AttackIncidents
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.evidence import EvidenceGatherer
from selfheal_ml.agents.investigations import Investigations
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import (
    IncidentGrouper,
    OpenIncident,
    Topology,
    from_alert,
    from_anomaly,
    from_breach,
)
from selfheal_ml.diagnosis.attacks import QUIET_S, attack_summary
from selfheal_ml.diagnosis.revisions import RevisionBook
from selfheal_ml.diagnosis.triage import Readiness, TriagePolicy, common_cause_group
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    AttackStopped,
    BreachPredicted,
    Channel,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    IpBlocked,
    MetricsCollected,
    RepairExecuted,
    SecurityThreatDetected,
    Tick,
)


class DiagnosticAgent(Agent):
    """Groups signs of trouble into incidents and diagnoses them (see module doc)."""

    name: ClassVar[str] = "Diagnostic"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        AnomalyDetected, AlertRaised, BreachPredicted, MetricsCollected, Tick,
        IncidentStatusChanged, RepairExecuted, Channel.SECURITY,
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
            scores=extras.get("anomaly_store"),
            catalogue=self._series_catalogue if context.metrics is not None else None,
        )
        self.investigations = Investigations(list(extras.get("investigators") or []), self.log)
        self.readiness = Readiness(self.policy)
        self.revision_book = RevisionBook()
        self.diagnosed = 0
        self.attacks = AttackIncidents(self.name, float(extras.get("attack_quiet_s", QUIET_S)))

    def _series_catalogue(self) -> list[str]:
        assert self.context.metrics is not None
        return list(self.context.metrics.catalogue()["series"])

    @property
    def revisions(self) -> dict[str, int]:
        """Incident id -> number of its last published revision (open incidents only)."""
        return self.revision_book.numbers

    @property
    def waited(self) -> dict[str, int]:
        """Incident id -> health checks waited for shared evidence before the first diagnosis."""
        return self.readiness.waited

    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, Tick):
            if event.kind != "health":
                return []
            return self.attacks.on_tick(event.ts) + await self._on_tick(event)
        if isinstance(event, SecurityThreatDetected):
            self.attacks.join_diagnosed(event, self.grouper, self.revision_book.numbers)
            produced = self.attacks.handle(event)
            self.attacks.hand_over(self.grouper, self.revision_book.numbers, self.log)
            return produced
        if isinstance(event, IpBlocked | AttackStopped):
            return self.attacks.handle(event)
        if isinstance(event, MetricsCollected):
            self.readiness.observe(self.grouper.open.values(), event.points)
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
        self.attacks.book.release(set(self.grouper.open))

    async def _on_tick(self, tick: Tick) -> list[Event]:
        produced: list[Event] = []
        group = common_cause_group(self.grouper.open.values())
        if group:
            self.grouper.merge(group)
        changed = self.gatherer.recently_changed(tick.ts)
        self.attacks.hand_over(self.grouper, self.revision_book.numbers, self.log)
        for incident in list(self.grouper.open.values()):
            outliers = await run_blocking(
                self.context.clock, self.gatherer.traffic_outliers, incident, tick.ts
            )
            for observation in outliers:
                self.grouper.add(observation)
            if self.readiness.ready(incident, tick.ts, changed):
                diagnosis = await self.diagnose(incident, tick.ts)
                produced += [diagnosis] if diagnosis is not None else []
        self.grouper.close_quiet(tick.ts)
        self.attacks.book.release(set(self.grouper.open))
        self.readiness.forget(self.grouper.open)  # closed, or merged into another incident
        self.revision_book.forget(self.grouper.open)
        return produced

    async def diagnose(self, incident: OpenIncident, now: datetime) -> IncidentDiagnosed | None:
        """Diagnose ``incident`` (again, if its top candidate changed); ``None`` if unchanged
        or when nothing explains it and no threshold broke."""
        candidates = self.gatherer.candidates(incident)
        revision = self.revision_book.next_revision(incident, candidates)
        incident.diagnosed_at = now
        if revision is None:
            return None
        findings = await self.investigations.findings(candidates[:3], incident.observations)
        evidence = await run_blocking(
            self.context.clock, self.gatherer.gather, incident, candidates, revision, now, findings
        )
        diagnosis = evidence.compose()
        attack = self.attacks.book.handed_over(incident.incident_id)
        if attack is not None:  # the Security agent's side of the same attack
            noted = (*diagnosis.findings, f"security: {attack_summary(attack)}")
            diagnosis = diagnosis.model_copy(update={"findings": noted})
        self.diagnosed += 1
        self.log.info(
            "incident %s (revision %d): %s", incident.incident_id, revision, diagnosis.summary
        )
        return IncidentDiagnosed(
            ts=now, source=self.name, correlation_id=incident.correlation_id,
            incident_id=incident.incident_id, diagnosis=diagnosis,
        )  # fmt: skip
