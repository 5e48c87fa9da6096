"""The recommendation decision: model ranking when it is confident, documented rules otherwise.

:func:`decide` is pure. With a model's probabilities whose best is at least the confidence
floor, the model decides. With no model (no champion yet) or below the floor, the rules of
:mod:`selfheal_ml.repair.baselines` decide (``fallback=True``) and the answer says a human
should confirm before anything runs.

>>> decision = decide({"restart_service": 0.4, "rollback_config": 0.35}, {}, floor=0.6)
>>> decision.fallback, decision.needs_human_confirmation
(True, True)
>>> decide({"clear_cache": 0.9}, {}, floor=0.6, model_version="3").strategies[0].strategy
'clear_cache'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from selfheal_ml.lifecycle import ClassifierAdvice
from selfheal_ml.repair.baselines import STRATEGIES, ranking_probabilities, rule_ranking

DEFAULT_CONFIDENCE_FLOOR = 0.6


@dataclass(frozen=True)
class RankedStrategy:
    """One strategy and its probability."""

    strategy: str
    probability: float


@dataclass(frozen=True)
class Recommendation:
    """Ranked strategies, who decided and whether a human must confirm."""

    strategies: tuple[RankedStrategy, ...]
    model_version: str | None
    fallback: bool
    needs_human_confirmation: bool
    reason: str


def _ranked(probabilities: Mapping[str, float]) -> tuple[RankedStrategy, ...]:
    ordered = sorted(probabilities.items(), key=lambda item: (-item[1], item[0]))
    return tuple(RankedStrategy(name, float(value)) for name, value in ordered)


def rule_recommendation(features: Mapping[str, float], reason: str) -> Recommendation:
    """The rules' ranking as a fallback recommendation (a human must confirm)."""
    probabilities = ranking_probabilities(rule_ranking(features), STRATEGIES)
    ranked = _ranked(dict(zip(STRATEGIES, probabilities.tolist(), strict=True)))
    return Recommendation(ranked, None, True, True, reason)


def decide(
    probabilities: Mapping[str, float] | None,
    features: Mapping[str, float],
    floor: float = DEFAULT_CONFIDENCE_FLOOR,
    model_version: str | None = None,
) -> Recommendation:
    """Model ranking if confident, else the rules (see the module docstring)."""
    if not probabilities:
        return rule_recommendation(features, "no champion model: rules decided")
    ranked = _ranked(probabilities)
    best = ranked[0].probability
    if best < floor:
        fallback = rule_recommendation(
            features, f"model confidence {best:.2f} below the floor {floor:.2f}: rules decided"
        )
        return Recommendation(fallback.strategies, model_version, True, True, fallback.reason)
    return Recommendation(ranked, model_version, False, False, "the champion model decided")


def from_advice(advice: ClassifierAdvice | None) -> Recommendation | None:
    """The classifier's answer as a diagnosis carried it, back as a :class:`Recommendation`."""
    if advice is None:
        return None
    return Recommendation(
        strategies=tuple(RankedStrategy(s.strategy, s.probability) for s in advice.strategies),
        model_version=advice.model_version,
        fallback=advice.fallback,
        needs_human_confirmation=advice.needs_human_confirmation,
        reason=advice.reason,
    )
