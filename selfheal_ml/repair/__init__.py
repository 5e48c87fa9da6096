"""The repair-strategy domain: features, classifier candidates, baselines, gate, playbooks.

Pure code, no I/O: an :class:`IncidentRecord` (what was observable when an incident opened)
becomes a flat feature dict (:func:`incident_features`, total: every valid incident gets every
feature); stock scikit-learn pipelines (:data:`CANDIDATES`) learn which repair strategy works;
:class:`RuleBaseline` and :class:`MajorityBaseline` are what they must beat;
:func:`score_probabilities` measures accuracy, macro-F1, top-2 accuracy and Brier score;
:func:`promotion_decision` is the champion/challenger gate; :func:`decide` turns model
probabilities into a :class:`Recommendation`, falling back to the rules below a confidence
floor; playbooks rank strategies per signature by their Wilson interval.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.repair.baselines import (
        STRATEGIES,
        MajorityBaseline,
        RuleBaseline,
        rule_ranking,
    )
    from selfheal_ml.repair.classifier import CANDIDATES, build_candidate
    from selfheal_ml.repair.features import FEATURE_NAMES, feature_frame, incident_features
    from selfheal_ml.repair.incident import IncidentRecord, Signal, incident_signature
    from selfheal_ml.repair.metrics import Scores, score_probabilities, wilson_interval
    from selfheal_ml.repair.playbook import PlaybookEntry, rank_playbook
    from selfheal_ml.repair.promotion import PromotionDecision, promotion_decision
    from selfheal_ml.repair.recommend import (
        DEFAULT_CONFIDENCE_FLOOR,
        RankedStrategy,
        Recommendation,
        decide,
    )

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.repair.baselines": (
            "STRATEGIES",
            "MajorityBaseline",
            "RuleBaseline",
            "rule_ranking",
        ),
        "selfheal_ml.repair.classifier": (
            "CANDIDATES",
            "build_candidate",
        ),
        "selfheal_ml.repair.features": (
            "FEATURE_NAMES",
            "feature_frame",
            "incident_features",
        ),
        "selfheal_ml.repair.incident": (
            "IncidentRecord",
            "Signal",
            "incident_signature",
        ),
        "selfheal_ml.repair.metrics": (
            "Scores",
            "score_probabilities",
            "wilson_interval",
        ),
        "selfheal_ml.repair.playbook": (
            "PlaybookEntry",
            "rank_playbook",
        ),
        "selfheal_ml.repair.promotion": (
            "PromotionDecision",
            "promotion_decision",
        ),
        "selfheal_ml.repair.recommend": (
            "DEFAULT_CONFIDENCE_FLOOR",
            "RankedStrategy",
            "Recommendation",
            "decide",
        ),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "CANDIDATES",
    "DEFAULT_CONFIDENCE_FLOOR",
    "FEATURE_NAMES",
    "STRATEGIES",
    "IncidentRecord",
    "MajorityBaseline",
    "PlaybookEntry",
    "PromotionDecision",
    "RankedStrategy",
    "Recommendation",
    "RuleBaseline",
    "Scores",
    "Signal",
    "build_candidate",
    "decide",
    "feature_frame",
    "incident_features",
    "incident_signature",
    "promotion_decision",
    "rank_playbook",
    "rule_ranking",
    "score_probabilities",
    "wilson_interval",
]
