"""The typed diagnosis: from ranked candidates and evidence to a :class:`Diagnosis` revision.

Pure functions the Diagnostic agent calls to assemble what every other part reads: the
strongest observation per series, the signals in the Learning agent's shape, the triggers the
Repair agent watches to verify recovery (for a resource that fills, its prediction's trend
level), the platform an action on a shared dependency is addressed to, the incident's
severity, the recommended strategy and the one-paragraph summary a person reads
(:func:`compose_diagnosis` puts them together).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.root_cause import Candidate, Impact
from selfheal_ml.diagnosis.similar import SimilarIncident
from selfheal_ml.lifecycle import (
    CauseCandidate,
    ClassifierAdvice,
    Diagnosis,
    ObservedSignal,
    ParameterValue,
    Severity,
    SimilarPast,
    StrategyProbability,
    Trigger,
)
from selfheal_ml.lifecycle import Impact as ImpactSummary
from selfheal_ml.repair.incident import Signal
from selfheal_ml.repair.recommend import Recommendation

TRIGGERS_PER_INCIDENT = 3
CANDIDATES_KEPT = 5


def strongest_per_series(observations: Sequence[Observation]) -> list[Observation]:
    """One observation per series (the strongest), strongest first."""
    best: dict[str, Observation] = {}
    for observation in observations:
        known = best.get(observation.series)
        if known is None or observation.strength > known.strength:
            best[observation.series] = observation
    return sorted(best.values(), key=lambda item: (-item.strength, item.series))


def watched_per_series(observations: Sequence[Observation]) -> list[Observation]:
    """One observation per series to verify recovery by: the strongest, except that a series'
    latest prediction with a trend level takes its place. A filling disk or a leak is undone
    when the level falls back below its trend, not when it nears the band an anomaly drew
    before the ramp (held-out 7034, 01-07 15:21: a disk filling 0.2 points a minute stayed
    within its anomaly's band, widened by the verification tolerance, for two collections;
    the incident closed as recovered before any repair and the disk was cleaned 6 minutes
    later, from the next prediction's own incident).
    """
    predicted: dict[str, Observation] = {}
    for observation in observations:
        if observation.source == "forecast" and observation.expected_high is not None:
            known = predicted.get(observation.series)
            if known is None or observation.ts >= known.ts:
                predicted[observation.series] = observation
    return [predicted.get(o.series, o) for o in strongest_per_series(observations)]


def observed_signal(signal: Signal) -> ObservedSignal:
    """A signal as the diagnosis carries it (what the Learning agent reads)."""
    return ObservedSignal(
        metric=signal.metric,
        score=round(signal.score, 4),
        platform=signal.platform,
        dependency=signal.dependency,
        status_class=signal.status_class,
    )


def trigger_of(observation: Observation) -> Trigger | None:
    """What the Repair agent watches to verify recovery (``None``: nothing watchable)."""
    if observation.source == "alert":
        return Trigger(kind="alert", key=observation.series, component=observation.component)
    if observation.source == "anomaly" and observation.expected_low is not None:
        return Trigger(
            kind="range",
            key=observation.series,
            component=observation.component,
            low=observation.expected_low,
            high=observation.expected_high,
            value=observation.value,
        )
    if observation.source == "forecast" and observation.expected_high is not None:
        # a predicted breach is undone when the series falls back below its trend's level
        return Trigger(
            kind="range",
            key=observation.series,
            component=observation.component,
            high=observation.expected_high,
            value=observation.value,
        )
    return None


def executor_platform(
    candidate: Candidate, observations: Sequence[Observation], known: Sequence[str] = ()
) -> str | None:
    """The platform an action on the candidate's component is addressed to: the component
    itself for a platform, else the platform hurt most by the dependency's fault (else the
    first known platform: every platform uses a shared dependency)."""
    platforms = {o.platform for o in observations if o.platform}
    if candidate.component in platforms or candidate.component in known:
        return candidate.component
    if not platforms:
        return known[0] if known else None
    worst: dict[str, float] = {}
    for observation in observations:
        if observation.platform:
            worst[observation.platform] = max(
                worst.get(observation.platform, 0.0), observation.strength
            )
    return min(worst, key=lambda name: (-worst[name], name))


def severity_of(observations: Sequence[Observation]) -> Severity:
    """``critical`` for a critical alert, a database that stopped answering or an extreme
    anomaly; else ``warning``."""
    critical = any(
        (o.source == "alert" and o.strength >= 20.0)
        or (o.metric == "db_up" and o.score < 0)
        or o.strength >= 40.0
        for o in observations
    )
    return "critical" if critical else "warning"


def triggers_for(strongest: Sequence[Observation], best: Candidate | None) -> tuple[Trigger, ...]:
    """The signals to watch: the root component's strongest, else the incident's."""
    own = [o for o in strongest if best is not None and o.component == best.component]
    chosen = own or list(strongest)
    triggers = [t for o in chosen if (t := trigger_of(o)) is not None]
    return tuple(triggers[:TRIGGERS_PER_INCIDENT])


def known_fix(best: Candidate, parameters: Mapping[str, object]) -> str:
    """The fix of the top cause to try first: the first of its fixes an investigation found
    the parameters of (it saw what is broken), else the least risky one.

    >>> from datetime import UTC, datetime
    >>> slow = Candidate("slow_query", "postgres", 0.9, 0.9, datetime(2026, 1, 5, tzinfo=UTC),
    ...                  "reindex", (), ("add_index",))
    >>> known_fix(slow, {}), known_fix(slow, {"add_index": {"table": "orders"}})
    ('reindex', 'add_index')
    """
    return next((fix for fix in best.fixes if fix in parameters), best.strategy)


def recommended_strategy(
    recommendation: Recommendation | None, best: Candidate | None, fix: str | None = None
) -> str | None:
    """The classifier's pick when a champion answered confidently, else the known fix."""
    if recommendation is not None and not recommendation.fallback:
        return recommendation.strategies[0].strategy
    if best is not None:
        return fix or best.strategy
    if recommendation is not None and recommendation.strategies:
        return recommendation.strategies[0].strategy
    return None


def classifier_advice(recommendation: Recommendation | None) -> ClassifierAdvice | None:
    """The classifier's answer as the diagnosis carries it."""
    if recommendation is None:
        return None
    return ClassifierAdvice(
        strategies=tuple(
            StrategyProbability(strategy=item.strategy, probability=round(item.probability, 4))
            for item in recommendation.strategies
        ),
        model_version=recommendation.model_version,
        fallback=recommendation.fallback,
        needs_human_confirmation=recommendation.needs_human_confirmation,
        reason=recommendation.reason,
    )


def cause_candidate(candidate: Candidate) -> CauseCandidate:
    """A ranked candidate as the diagnosis carries it."""
    return CauseCandidate(
        cause=candidate.cause,
        component=candidate.component,
        score=candidate.score,
        fit=candidate.fit,
        strategy=candidate.strategy,
        evidence=candidate.evidence,
        onset=candidate.onset,
        alternatives=candidate.alternatives,
    )


def similar_past(match: SimilarIncident) -> SimilarPast:
    """A similar past incident as the diagnosis carries it."""
    return SimilarPast(
        incident_id=match.incident_id,
        opened_at=match.opened_at,
        similarity=match.similarity,
        root_cause=match.root_cause,
        resolved_by=match.resolved_by,
        status=match.status,
    )


def summary_text(
    candidates: Sequence[Candidate],
    confidence: float,
    impact: Impact,
    similar: Sequence[SimilarIncident],
    recommended: str | None,
    recommendation: Recommendation | None,
) -> str:
    """The paragraph a person reads: cause, impact, history, advice."""
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


@dataclass(frozen=True)
class Evidence:
    """Everything a diagnosis is assembled from (what the agent gathered)."""

    revision: int
    opened_at: datetime
    observations: Sequence[Observation]
    candidates: Sequence[Candidate]
    confidence: float
    impact: Impact
    signals: Sequence[Signal]
    signature: str
    features: Mapping[str, float]
    similar: Sequence[SimilarIncident] = ()
    recommendation: Recommendation | None = None
    findings: Mapping[str, tuple[str, Mapping[str, ParameterValue]]] = field(default_factory=dict)
    platform_names: Sequence[str] = ()

    def compose(self) -> Diagnosis:
        """The typed diagnosis (:func:`compose_diagnosis`)."""
        return compose_diagnosis(self)


def compose_diagnosis(evidence: Evidence) -> Diagnosis:
    """The typed diagnosis of one revision (``findings``: strategy -> (summary, params))."""
    candidates = list(evidence.candidates)
    best = candidates[0] if candidates else None
    parameters = {key: dict(params) for key, (_, params) in evidence.findings.items()}
    fix = known_fix(best, parameters) if best else None
    recommended = recommended_strategy(evidence.recommendation, best, fix)
    summary = summary_text(
        candidates, evidence.confidence, evidence.impact, evidence.similar, recommended,
        evidence.recommendation,
    )  # fmt: skip
    findings = [text for text, _ in evidence.findings.values()]
    if findings:
        summary += " Investigation: " + " ".join(findings)
    observations = evidence.observations
    impact = evidence.impact
    return Diagnosis(
        revision=evidence.revision,
        opened_at=evidence.opened_at,
        root_cause=best.cause if best else None,
        component=best.component if best else None,
        target_platform=(
            executor_platform(best, observations, evidence.platform_names) if best else None
        ),
        platforms=impact.platforms,
        severity=severity_of(observations),
        strategy=recommended,
        known_fix=fix,
        parameters=parameters,
        confidence=evidence.confidence,
        evidence=best.evidence if best else (),
        summary=summary,
        signature=evidence.signature,
        signals=tuple(observed_signal(signal) for signal in evidence.signals),
        features=dict(evidence.features),
        candidates=tuple(cause_candidate(c) for c in candidates[:CANDIDATES_KEPT]),
        advice=classifier_advice(evidence.recommendation),
        triggers=triggers_for(watched_per_series(observations), best),
        similar=tuple(similar_past(match) for match in evidence.similar),
        impact=ImpactSummary(
            platforms=impact.platforms,
            endpoints=impact.endpoints,
            error_budget_burned=impact.error_budget_burned,
            text=impact.describe(),
        ),
        findings=tuple(findings),
    )
