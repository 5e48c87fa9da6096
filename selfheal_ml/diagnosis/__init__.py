"""Diagnosis: from scattered alerts and anomalies to an incident with a ranked root cause.

The family's API in prose. Alerts, anomalies and breach predictions become
:class:`Observation` s (:mod:`.observations`); the :class:`IncidentGrouper` groups related ones
into an :class:`OpenIncident` using time and the dependency graph (:mod:`.grouping`);
:func:`rank_causes` ranks (cause, component) candidates against the known failure signatures
(:mod:`.hypotheses`), dependency-aware and lead-lag aware, and :func:`impact_of` states who is
hurt (:mod:`.root_cause`); :func:`most_similar` finds the nearest past incidents
(:mod:`.similar`). Everything here is pure: the Diagnostic agent feeds it and publishes.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.diagnosis.grouping import IncidentGrouper, OpenIncident, Topology
    from selfheal_ml.diagnosis.hypotheses import HYPOTHESES, Hypothesis, fit
    from selfheal_ml.diagnosis.observations import (
        Observation,
        from_alert,
        from_anomaly,
        from_breach,
        metric_name,
    )
    from selfheal_ml.diagnosis.root_cause import (
        Candidate,
        Impact,
        confidence_of,
        impact_of,
        rank_causes,
        to_signal,
    )
    from selfheal_ml.diagnosis.similar import PastIncident, SimilarIncident, most_similar

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.diagnosis.grouping": (
            "IncidentGrouper",
            "OpenIncident",
            "Topology",
        ),
        "selfheal_ml.diagnosis.hypotheses": (
            "HYPOTHESES",
            "Hypothesis",
            "fit",
        ),
        "selfheal_ml.diagnosis.observations": (
            "Observation",
            "from_alert",
            "from_anomaly",
            "from_breach",
            "metric_name",
        ),
        "selfheal_ml.diagnosis.root_cause": (
            "Candidate",
            "Impact",
            "confidence_of",
            "impact_of",
            "rank_causes",
            "to_signal",
        ),
        "selfheal_ml.diagnosis.similar": (
            "PastIncident",
            "SimilarIncident",
            "most_similar",
        ),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "HYPOTHESES",
    "Candidate",
    "Hypothesis",
    "Impact",
    "IncidentGrouper",
    "Observation",
    "OpenIncident",
    "PastIncident",
    "SimilarIncident",
    "Topology",
    "confidence_of",
    "fit",
    "from_alert",
    "from_anomaly",
    "from_breach",
    "impact_of",
    "metric_name",
    "most_similar",
    "rank_causes",
    "to_signal",
]
