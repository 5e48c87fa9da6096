"""The Diagnostic agent: turns scattered alerts and anomalies into diagnosed incidents.

It listens to the signs of trouble (``AnomalyDetected``, firing ``AlertRaised``,
``BreachPredicted``), groups them into incidents with the dependency graph
(:mod:`selfheal_ml.diagnosis.grouping`), and on the next health tick at least ``settle_s`` after
an incident opened (so that symptoms arriving together are diagnosed together) it diagnoses it:

- ranks root-cause candidates (dependency-aware, lead-lag, recent configuration changes from
  the ``change_log`` port) and states the impact;
- builds the learning issue's incident record (signals, features) and finds the most similar
  past incidents in the history with their outcomes;
- asks the repair classifier (``repair_model``) for its ranking;
- asks the ``investigators`` whose strategy is among the top candidates' fixes for the fix's
  parameters (:mod:`selfheal_ml.diagnosis.investigation`: which table lacks which index);
- emits ``IncidentDiagnosed`` with all of it in ``details`` and a one-paragraph ``summary`` a
  person can read in the alert annotations.

An incident qualifies for a diagnosis only with corroborated evidence: a threshold alert, a
breach prediction, anomalies on at least ``min_series`` series, or one anomaly that
*persists*: its series stays outside the expected range on ``confirm_checks`` consecutive
collections, by half the range's width at least (a disk filling up does; noise at the edge of
a narrow band does not). Platforms whose requests suffer at the same time are taken for one
incident with a shared cause, and wait up to ``max_settle_checks`` health checks for the
shared dependency's own signals before a platform is blamed; a loaded database that hurts one
platform only waits as long for that platform's own signals (its traffic may be the cause).
And an incident is published only when it matches a known failure signature or a threshold
alert fired: a group of anomalies that explains nothing and breaks no threshold stays what it
is, anomalies (the AlertManager still shows them), not an incident anyone is paged or acts
for. When later evidence changes the top
candidate, the incident is diagnosed again (``details["revision"]`` counts).

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore: similar incidents,
recurrence), ``repair_model`` (RepairRecommender), ``investigators`` (a list of
Investigator), ``change_log`` (a callable returning recent
configuration changes with ``ts``, ``platform``, ``description``), ``diagnosis`` (a dict of the
numbers above: ``settle_s`` 60, ``window_s`` 900, ``quiet_s`` 1800, ``min_series`` 2,
``confirm_checks`` 3, ``max_settle_checks`` 3) and ``platforms`` (the platform names, to address
an action on a shared dependency when no platform showed symptoms yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import (
    Candidate,
    IncidentGrouper,
    Observation,
    OpenIncident,
    PastIncident,
    Topology,
    confidence_of,
    from_alert,
    from_anomaly,
    from_breach,
    impact_of,
    most_similar,
    rank_causes,
    to_signal,
)
from selfheal_ml.diagnosis.investigation import Finding, Investigator
from selfheal_ml.diagnosis.report import (
    executor_platform,
    severity_of,
    signal_dict,
    strongest_per_series,
    triggers_for,
)
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    Tick,
)
from selfheal_ml.repair.features import incident_features
from selfheal_ml.repair.incident import IncidentRecord, incident_signature
from selfheal_ml.repair.recommend import Recommendation
from selfheal_ml.storage.incidents import IncidentStore

DEFAULTS: dict[str, float] = {
    "settle_s": 60.0,
    "window_s": 900.0,
    "quiet_s": 1800.0,
    "min_series": 2,
    "confirm_checks": 3,
    "max_settle_checks": 3,
}
INVESTIGATION_TIMEOUT_S = 15.0
#: A lone anomaly persists when its series stays beyond its expected range by at least this
#: share of the range's width (noise hovering at the edge of a narrow band does not).
PERSISTENCE_MARGIN = 0.5
#: A database's load signals: a busy platform can cause them as well as a database fault.
LOAD_METRICS = frozenset(
    {"db_connections_in_use", "db_query_duration_ms", "db_slow_queries_per_s", "db_slow_queries"}
)
#: Request symptoms (what a shared dependency's fault does to every platform using it).
REQUEST_SYMPTOMS = frozenset(
    {"http_latency_p95_ms", "http_latency_p99_ms", "http_error_ratio", "http_5xx_per_s"}
)
SIMILAR_WINDOW = timedelta(days=7)


class DiagnosticAgent(Agent):
    """Groups signs of trouble into incidents and diagnoses them (see module doc)."""

    name: ClassVar[str] = "Diagnostic"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        AnomalyDetected,
        AlertRaised,
        BreachPredicted,
        MetricsCollected,
        Tick,
    )

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.numbers: dict[str, float] = {**DEFAULTS, **extras.get("diagnosis", {})}
        self.grouper = IncidentGrouper(
            Topology(), self.numbers["window_s"], self.numbers["quiet_s"]
        )
        self.incidents: IncidentStore | None = extras.get("incidents")
        self.recommender: Any = extras.get("repair_model")
        self.change_log: Callable[[], Sequence[Any]] | None = extras.get("change_log")
        self.investigators: list[Investigator] = list(extras.get("investigators") or [])
        self.platform_names: list[str] = sorted(extras.get("platforms") or [])
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
            return []
        observation = self._observe(event)
        if observation is not None:
            self.grouper.add(observation)
        return []

    def _check_persistence(self, event: MetricsCollected) -> None:
        """Count, for each lone-anomaly incident, how long its series stays out of range."""
        watched: dict[str, tuple[str, Observation]] = {}
        for incident in self.grouper.open.values():
            if (
                incident.diagnosed_at is None
                and len({o.series for o in incident.observations}) == 1
            ):
                lone = incident.observations[-1]
                if lone.source == "anomaly" and lone.expected_low is not None:
                    watched[lone.series] = (incident.incident_id, lone)
        if not watched:
            return
        for point in event.points:
            found = watched.get(point.series)
            if found is None:
                continue
            incident_id, lone = found
            low, high = lone.expected_low, lone.expected_high
            if low is None or high is None:
                continue
            margin = PERSISTENCE_MARGIN * max(high - low, 0.0)
            outside = not low - margin <= point.value <= high + margin
            self.persisting[incident_id] = self.persisting.get(incident_id, 0) + 1 if outside else 0

    @staticmethod
    def _observe(event: Event) -> Observation | None:
        if isinstance(event, AnomalyDetected):
            return from_anomaly(event)
        if isinstance(event, AlertRaised):
            return from_alert(event)
        if isinstance(event, BreachPredicted):
            return from_breach(event)
        return None

    async def _on_tick(self, tick: Tick) -> list[Event]:
        settle = timedelta(seconds=self.numbers["settle_s"])
        produced: list[Event] = []
        self._merge_common_cause()
        for incident in list(self.grouper.open.values()):
            if tick.ts < incident.opened_at + settle or not self.qualifies(incident):
                continue
            if self._awaiting_shared_evidence(incident, tick.ts):
                continue
            if incident.diagnosed_at is not None and incident.last_seen <= incident.diagnosed_at:
                continue  # nothing new since the last diagnosis
            diagnosis = await self.diagnose(incident, tick.ts)
            if diagnosis is not None:
                produced.append(diagnosis)
        self.grouper.close_quiet(tick.ts)
        for book in (self.revisions, self.top_cause, self.persisting, self.waited):
            for incident_id in [key for key in book if key not in self.grouper.open]:
                del book[incident_id]  # closed, or merged into another incident
        return produced

    def _merge_common_cause(self) -> None:
        """Platforms whose requests suffer at the same time share a cause until shown
        otherwise: their undiagnosed incidents become one (the database's own anomalies often
        arrive a round after the platforms' timeouts)."""
        hurting = [
            incident
            for incident in self.grouper.open.values()
            if incident.diagnosed_at is None
            and all(o.dependency is None for o in incident.observations)
            and any(o.metric in REQUEST_SYMPTOMS and o.score > 0 for o in incident.observations)
        ]
        if len({frozenset(incident.components) for incident in hurting}) >= 2:
            self.grouper.merge(hurting)

    def _awaiting_shared_evidence(self, incident: OpenIncident, now: datetime) -> bool:
        """Before the first diagnosis, wait (up to ``max_settle_checks`` checks) for the
        evidence that tells a shared cause from a local one: several platforms hurt and no
        shared dependency seen yet, or a loaded database hurting at most one platform."""
        if incident.diagnosed_at is not None:
            return False  # already published: new evidence is diagnosed at once
        waited = self.waited.get(incident.incident_id, 0) + 1
        self.waited[incident.incident_id] = waited
        if waited > self.numbers["max_settle_checks"]:
            return False
        observations = incident.observations
        platforms = {o.platform for o in observations if o.metric in REQUEST_SYMPTOMS}
        dependencies = [o for o in observations if o.dependency is not None]
        if len(platforms) >= 2 and not dependencies:
            return True
        # a loaded database hurting one platform: its cause may be that platform's traffic,
        # whose own anomalies can arrive later than the database's
        load_only = bool(dependencies) and all(
            o.metric in LOAD_METRICS and o.score > 0 for o in dependencies
        )
        return load_only and len(platforms) <= 1

    def qualifies(self, incident: OpenIncident) -> bool:
        """Whether the evidence is corroborated enough to diagnose (see module doc)."""
        observations = incident.observations
        if any(o.source in ("alert", "forecast") for o in observations):
            return True
        if len({o.series for o in observations}) >= self.numbers["min_series"]:
            return True
        return self.persisting.get(incident.incident_id, 0) >= self.numbers["confirm_checks"]

    async def diagnose(self, incident: OpenIncident, now: datetime) -> IncidentDiagnosed | None:
        """Diagnose ``incident`` (again, if its top candidate changed); ``None`` if unchanged."""
        observations = list(incident.observations)
        changes = self._change_ages(incident.opened_at)
        candidates = rank_causes(observations, changes)
        top = candidates[0].label if candidates else "unknown"
        if incident.diagnosed_at is not None and self.top_cause.get(incident.incident_id) == top:
            incident.diagnosed_at = now
            return None
        incident.diagnosed_at = now
        if not candidates and not any(o.source == "alert" for o in observations):
            return None  # explains nothing, breaks no threshold: anomalies, not an incident
        self.top_cause[incident.incident_id] = top
        revision = self.revisions.get(incident.incident_id, 0) + 1
        self.revisions[incident.incident_id] = revision
        strongest = strongest_per_series(observations)
        signals = tuple(to_signal(o) for o in strongest)
        change_age = min(
            (age for platform, age in changes.items() if age >= 0 and platform in
             {o.platform for o in observations}),
            default=None,
        )  # fmt: skip
        record = IncidentRecord(
            opened_at=incident.opened_at,
            signals=signals,
            platforms=tuple(sorted({o.platform for o in observations if o.platform})),
            config_change_age_s=change_age,
        )
        history = await run_blocking(self.context.clock, self._history)
        signature = incident_signature(record)
        recent = [
            past
            for past in history
            if past.opened_at is not None
            and incident.opened_at - SIMILAR_WINDOW <= past.opened_at < incident.opened_at
            and past.signature == signature
        ]
        record = IncidentRecord(
            opened_at=record.opened_at,
            signals=record.signals,
            platforms=record.platforms,
            config_change_age_s=record.config_change_age_s,
            similar_incidents_7d=len(recent),
        )
        features = incident_features(record)
        similar = most_similar(
            features, [p for p in history if p.incident_id != incident.incident_id]
        )
        recommendation = self._recommend(features)
        findings = await self._investigate(candidates[:3], observations)
        impact = impact_of(observations, incident.opened_at, now)
        confidence = confidence_of(candidates)
        best = candidates[0] if candidates else None
        recommended = self._recommended(recommendation, best)
        severity = severity_of(observations)
        triggers = triggers_for(strongest, best)
        summary = self._summary(
            candidates, confidence, impact, similar, recommended, recommendation
        )
        if findings:
            summary += " Investigation: " + " ".join(f.summary for f in findings.values())
        self.diagnosed += 1
        self.log.info("incident %s (revision %d): %s", incident.incident_id, revision, summary)
        return IncidentDiagnosed(
            ts=now,
            source=self.name,
            correlation_id=incident.correlation_id,
            incident_id=incident.incident_id,
            platforms=impact.platforms,
            root_causes=tuple(candidate.label for candidate in candidates[:3]),
            recommendation=recommended,
            confidence=confidence,
            details={
                "severity": severity,
                "summary": summary,
                "revision": revision,
                "opened_at": incident.opened_at.isoformat(),
                "signature": signature,
                "signals": [signal_dict(signal) for signal in signals],
                "features": features,
                "candidates": [_candidate_dict(candidate) for candidate in candidates[:5]],
                "target": best.component if best else None,
                "target_platform": (
                    executor_platform(best, observations, self.platform_names) if best else None
                ),
                "known_fix": best.strategy if best else None,
                "impact": {
                    "platforms": list(impact.platforms),
                    "endpoints": list(impact.endpoints),
                    "error_budget_burned": impact.error_budget_burned,
                    "text": impact.describe(),
                },
                "similar": [match.as_dict() for match in similar],
                "recommendation": _recommendation_dict(recommendation),
                "triggers": triggers,
                "findings": [finding.summary for finding in findings.values()],
                "action_params": {
                    strategy: dict(finding.params) for strategy, finding in findings.items()
                },
            },
        )

    async def _investigate(
        self, candidates: Sequence[Candidate], observations: Sequence[Observation]
    ) -> dict[str, Finding]:
        """Findings by strategy from the investigators the top candidates call for."""
        wanted = {candidate.strategy for candidate in candidates}
        findings: dict[str, Finding] = {}
        for investigator in self.investigators:
            if investigator.strategy not in wanted:
                continue
            try:
                found = await asyncio.wait_for(
                    investigator.investigate(observations), INVESTIGATION_TIMEOUT_S
                )
            except Exception as error:  # an investigation must not stop the diagnosis
                self.log.warning("investigator for %s failed: %s", investigator.strategy, error)
                continue
            if found is not None:
                findings[investigator.strategy] = found
        return findings

    def _change_ages(self, opened_at: datetime) -> dict[str, float]:
        """Age (s) of the latest configuration change per platform at ``opened_at``."""
        if self.change_log is None:
            return {}
        ages: dict[str, float] = {}
        for change in self.change_log():
            age = (opened_at - change.ts).total_seconds()
            if age >= 0 and (change.platform not in ages or age < ages[change.platform]):
                ages[change.platform] = age
        return ages

    def _history(self) -> list[PastIncident]:
        if self.incidents is None:
            return []
        return [
            PastIncident(
                incident_id=str(incident_id),
                opened_at=opened_at,
                root_cause=root_cause,
                resolved_by=resolved_by,
                status=status,
                features=features,
                signature=signature,
            )
            for incident_id, opened_at, root_cause, resolved_by, status, signature, features in (
                self.incidents.featured_incidents()
            )
        ]

    def _recommend(self, features: dict[str, float]) -> Recommendation | None:
        if self.recommender is None:
            return None
        result: Recommendation = self.recommender.recommend(features)
        return result

    @staticmethod
    def _recommended(recommendation: Recommendation | None, best: Candidate | None) -> str | None:
        """The classifier's pick when a champion answered confidently, else the known fix."""
        if recommendation is not None and not recommendation.fallback:
            return recommendation.strategies[0].strategy
        if best is not None:
            return best.strategy
        if recommendation is not None and recommendation.strategies:
            return recommendation.strategies[0].strategy
        return None

    @staticmethod
    def _summary(
        candidates: Sequence[Candidate],
        confidence: float,
        impact: Any,
        similar: Sequence[Any],
        recommended: str | None,
        recommendation: Recommendation | None,
    ) -> str:
        if candidates:
            best = candidates[0]
            cause = (
                f"Probable cause: {best.cause} on {best.component} (confidence {confidence:.2f};"
                f" evidence {', '.join(best.evidence) or 'none'})."
            )
            others = ", ".join(c.label for c in candidates[1:3])
            if others:
                cause += f" Also possible: {others}."
        else:
            cause = "No known failure signature matches; a person should look."
        past = (
            f" {len(similar)} similar past incident(s), last fixed by"
            f" {similar[0].resolved_by or 'nobody'}."
            if similar
            else " No similar past incident."
        )
        who = "the classifier" if recommendation and not recommendation.fallback else "the runbook"
        advice = f" Recommended: {recommended} ({who})." if recommended else ""
        return f"{cause} Impact: {impact.describe()}.{past}{advice}"


def _candidate_dict(candidate: Candidate) -> dict[str, Any]:
    return {
        "cause": candidate.cause,
        "component": candidate.component,
        "score": candidate.score,
        "fit": candidate.fit,
        "strategy": candidate.strategy,
        "evidence": list(candidate.evidence),
        "onset": candidate.onset.isoformat(),
    }


def _recommendation_dict(recommendation: Recommendation | None) -> dict[str, Any] | None:
    if recommendation is None:
        return None
    return {
        "strategies": [
            {"strategy": item.strategy, "probability": round(item.probability, 4)}
            for item in recommendation.strategies
        ],
        "model_version": recommendation.model_version,
        "fallback": recommendation.fallback,
        "needs_human_confirmation": recommendation.needs_human_confirmation,
        "reason": recommendation.reason,
    }
