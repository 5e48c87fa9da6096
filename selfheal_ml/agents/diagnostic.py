"""The Diagnostic agent: turns scattered alerts and anomalies into diagnosed incidents.

It groups the signs of trouble (``AnomalyDetected``, firing ``AlertRaised``,
``BreachPredicted``; not inhibited ones, a repair's side effect) into incidents with the graph
(:mod:`selfheal_ml.diagnosis.grouping`). On each health tick the incidents that are ready
(:class:`~selfheal_ml.diagnosis.triage.Readiness`) go to the ``IncidentDiagnoser``, whose
``IncidentDiagnosed`` revisions are written to the incident history before they are published
(durable before visible: no approval or alert outlives its incident in a crash). A resolved or
recovered incident leaves the grouper at once: a new fault never joins it; one the Repair
agent is verifying takes only the signs its repair or its fault explains (see
:meth:`~selfheal_ml.diagnosis.grouping.IncidentGrouper.follow`).

Attacks the Security agent confirms (``SecurityThreatDetected``, critical) are incidents of
their own (:mod:`selfheal_ml.agents.attack_incidents`): diagnosed at once, verifying once
banned, resolved when the banned addresses stop. One attack is one incident: the Monitor's
signs of the same attack (:mod:`selfheal_ml.diagnosis.attack_merge`) take the attack
incident's ids before their first diagnosis, or the attack joins the Monitor's incident if
that was diagnosed first.

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore), ``repair_model``
(RepairRecommender), ``investigators`` (Investigator list), ``change_log`` (a callable
returning recent configuration changes with ``ts``, ``platform``) and ``change_refresh`` (a
coroutine function awaited each health tick to refresh it: the live change feed), ``diagnosis``
(:class:`~selfheal_ml.diagnosis.triage.TriagePolicy` numbers), ``platforms`` (the platform
names, to address an action on a shared dependency) and ``attack_quiet_s`` (600 s: an attack
incident without a ban in force is escalated after that long without a new finding).
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.attack_incidents import AttackIncidents
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.history_writer import HistoryWriter
from selfheal_ml.agents.incident_diagnoser import IncidentDiagnoser
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import IncidentGrouper, Topology, from_alert, from_anomaly, from_breach
from selfheal_ml.diagnosis.attacks import QUIET_S
from selfheal_ml.diagnosis.triage import Readiness, TriagePolicy, common_cause_group
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    AttackStopped,
    BreachPredicted,
    Channel,
    DisturbanceExpected,
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
        IncidentStatusChanged, RepairExecuted, DisturbanceExpected, Channel.SECURITY,
    )  # fmt: skip

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.policy = TriagePolicy.of(extras.get("diagnosis", {}))
        self.grouper = IncidentGrouper(Topology(), self.policy.window_s, self.policy.quiet_s)
        self.diagnoser = IncidentDiagnoser(self.name, context, self.log)
        self.readiness = Readiness(self.policy)
        self.attacks = AttackIncidents(self.name, float(extras.get("attack_quiet_s", QUIET_S)))
        self.change_refresh = extras.get("change_refresh")  # polls ``change_log``'s source
        store = extras.get("incidents")
        self.history = HistoryWriter(store) if store is not None else None

    @property
    def revisions(self) -> dict[str, int]:
        """Incident id -> number of its last published revision (open incidents only)."""
        return self.diagnoser.revision_book.numbers

    @property
    def waited(self) -> dict[str, int]:
        """Incident id -> health checks waited for shared evidence before the first diagnosis."""
        return self.readiness.waited

    async def handle(self, event: Event) -> list[Event]:
        produced = await self._react(event)
        for diagnosed in (item for item in produced if isinstance(item, IncidentDiagnosed)):
            if self.history is not None:
                await run_blocking(self.context.clock, self.history.record, diagnosed)
        return produced

    async def _react(self, event: Event) -> list[Event]:
        if isinstance(event, Tick):
            if event.kind != "health":
                return []
            return self.attacks.on_tick(event.ts) + await self._on_tick(event)
        if isinstance(event, SecurityThreatDetected):
            self.attacks.join_diagnosed(event, self.grouper, self.diagnoser.revision_book.numbers)
            produced = self.attacks.handle(event)
            self.attacks.hand_over(self.grouper, self.diagnoser.revision_book.numbers, self.log)
            return produced
        if isinstance(event, IpBlocked | AttackStopped):
            return self.attacks.handle(event)
        if isinstance(event, MetricsCollected):
            self.readiness.observe(self.grouper.open.values(), event.points)
        elif isinstance(event, IncidentStatusChanged | RepairExecuted | DisturbanceExpected):
            if self.grouper.follow(event, self.name):
                self.attacks.book.release(set(self.grouper.open))
        elif isinstance(event, AlertRaised | AnomalyDetected) and event.inhibited_by:
            return []  # a running repair's side effect: not a sign of a new problem
        elif isinstance(event, AnomalyDetected):
            self.grouper.add(from_anomaly(event))
        elif isinstance(event, AlertRaised) and (observation := from_alert(event)) is not None:
            self.grouper.add(observation)
        elif isinstance(event, BreachPredicted):
            self.grouper.add(from_breach(event))
        return []

    async def _on_tick(self, tick: Tick) -> list[Event]:
        produced: list[Event] = []
        group = common_cause_group(self.grouper.open.values())
        if group:
            self.grouper.merge(group)
        if self.change_refresh is not None:
            await self.change_refresh()
        changed = self.diagnoser.gatherer.recently_changed(tick.ts)
        self.attacks.hand_over(self.grouper, self.diagnoser.revision_book.numbers, self.log)
        for incident in list(self.grouper.open.values()):
            outliers = await run_blocking(
                self.context.clock, self.diagnoser.gatherer.outliers, incident, tick.ts
            )
            for observation in outliers:
                self.grouper.add(observation)
            if self.readiness.ready(incident, tick.ts, changed):
                diagnosis = await self.diagnoser.diagnose(incident, tick.ts, self.attacks.book)
                produced += [diagnosis] if diagnosis is not None else []
        self.grouper.close_quiet(tick.ts)
        self.attacks.book.release(set(self.grouper.open))
        self.readiness.forget(self.grouper.open)  # closed, or merged into another incident
        self.diagnoser.revision_book.forget(self.grouper.open)
        return produced
