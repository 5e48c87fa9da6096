"""The parts of a diagnosis the other agents read: signals, triggers, target, severity.

Pure helpers the Diagnostic agent uses to fill ``IncidentDiagnosed.details``: the strongest
observation per series, the signals in the Learning agent's shape, the triggers the Repair
agent watches to verify recovery, the platform an action on a shared dependency is addressed
to, and the incident's severity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.root_cause import Candidate
from selfheal_ml.repair.incident import Signal

TRIGGERS_PER_INCIDENT = 3


def strongest_per_series(observations: Sequence[Observation]) -> list[Observation]:
    """One observation per series (the strongest), strongest first."""
    best: dict[str, Observation] = {}
    for observation in observations:
        known = best.get(observation.series)
        if known is None or observation.strength > known.strength:
            best[observation.series] = observation
    return sorted(best.values(), key=lambda item: (-item.strength, item.series))


def signal_dict(signal: Signal) -> dict[str, Any]:
    """A signal as ``details["signals"]`` carries it (what the Learning agent reads)."""
    return {
        "metric": signal.metric,
        "score": round(signal.score, 4),
        "platform": signal.platform,
        "dependency": signal.dependency,
        "status_class": signal.status_class,
    }


def trigger_of(observation: Observation) -> dict[str, Any] | None:
    """What the Repair agent watches to verify recovery (``None``: nothing watchable)."""
    if observation.source == "alert":
        return {"kind": "alert", "key": observation.series, "component": observation.component}
    if observation.source == "anomaly" and observation.expected_low is not None:
        return {
            "kind": "range",
            "series": observation.series,
            "component": observation.component,
            "low": observation.expected_low,
            "high": observation.expected_high,
            "value": observation.value,
        }
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


def severity_of(observations: Sequence[Observation]) -> str:
    """``critical`` for a critical alert, a database that stopped answering or an extreme
    anomaly; else ``warning``."""
    critical = any(
        (o.source == "alert" and o.strength >= 20.0)
        or (o.metric == "db_up" and o.score < 0)
        or o.strength >= 40.0
        for o in observations
    )
    return "critical" if critical else "warning"


def triggers_for(strongest: Sequence[Observation], best: Candidate | None) -> list[dict[str, Any]]:
    """The signals to watch: the root component's strongest, else the incident's."""
    own = [o for o in strongest if best is not None and o.component == best.component]
    chosen = own or list(strongest)
    triggers = [t for o in chosen if (t := trigger_of(o)) is not None]
    return triggers[:TRIGGERS_PER_INCIDENT]
