"""The request profile, alone and combined with the injection classifier, on CSIC 2010.

Issue 13's reference for whole requests is OWASP CRS PL1 at 31.6 % TPR at 0 % FPR on CSIC
2010; the injection classifier alone reaches ~21 %, because most CSIC anomalies are not
injections. :class:`~selfheal_ml.security.request_profile.RequestProfile` models the shop's
own normal requests instead. On the same near-duplicate group split as the classifier:

1. the profile learns the CSIC normal requests of the **fit** side only, each as often as the
   shop received it (``copies``); nothing learns an anomalous request;
2. both scores are calibrated on the **validation** side's normal requests: each is divided
   by its threshold at ``target_fpr`` there, so 1.0 means "as unusual as the rarest
   ``target_fpr`` of normal requests" for both, and the combined score is the higher of the
   two (the classifier scores a request value by value,
   :func:`~selfheal_ml.security.request_classifier.parameter_probabilities`); the combined
   default threshold is the lowest with validation FPR <= ``target_fpr``;
3. every side gets TPR at 0 / 0.1 / 1 % FPR for the profile, the classifier and the
   combination (thresholds set on that side's own normal requests, like every group figure of
   :mod:`selfheal_ml.security.request_evaluation`), plus the combination's TPR and FPR at the
   default threshold. In-sample = the fit side: its normal requests were learnt, its
   anomalous ones were not (they never enter the fit).

Single values, libinjection and Kaggle texts are not requests of an application: the
combination leaves their classifier scores as they are, so their figures cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from selfheal_ml.security.detection_metrics import (
    fpr_at_threshold,
    threshold_at_fpr,
    tpr_at_threshold,
)
from selfheal_ml.security.request_classifier import parameter_probabilities
from selfheal_ml.security.request_evaluation import FPR_BUDGETS
from selfheal_ml.security.request_parts import parse_request_text
from selfheal_ml.security.request_profile import RequestProfile

_SOURCES = ("csic_normal", "csic_anomalous")
_SCALE_FLOOR = 1e-6


def csic_rows(side: pd.DataFrame) -> pd.DataFrame:
    """The CSIC requests of one side."""
    return side[side["source"].isin(_SOURCES)].reset_index(drop=True)


def fit_profile(fit: pd.DataFrame) -> RequestProfile:
    """A profile of the fit side's normal CSIC requests, each learnt ``copies`` times."""
    normal = fit[fit["source"] == "csic_normal"]
    copies = normal["copies"] if "copies" in normal else pd.Series(1, index=normal.index)
    profile = RequestProfile()
    for text, count in zip(normal["text"], copies, strict=True):
        parts = parse_request_text(text)
        for _ in range(int(count)):
            profile.learn(parts)
    return profile


@dataclass(frozen=True)
class CombinedScorer:
    """Profile and classifier scores, each divided by its validation threshold; the higher."""

    profile: RequestProfile
    classifier: Any
    profile_scale: float
    classifier_scale: float
    threshold: float

    def component_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw (profile anomaly, classifier P(attack) value by value) per text."""
        return self.profile.score_texts(texts), parameter_probabilities(self.classifier, texts)

    def combine(self, profile_scores: np.ndarray, classifier_scores: np.ndarray) -> np.ndarray:
        """The calibrated maximum of the two scores."""
        return np.maximum(
            profile_scores / self.profile_scale, classifier_scores / self.classifier_scale
        )


def calibrate(
    profile: RequestProfile, classifier: Any, validation: pd.DataFrame, target_fpr: float
) -> CombinedScorer:
    """Scales and the default threshold from the validation side's normal requests."""
    normal = validation[validation["source"] == "csic_normal"]["text"].tolist()
    draft = CombinedScorer(profile, classifier, 1.0, 1.0, 1.0)
    profile_scores, classifier_scores = draft.component_scores(normal)
    profile_scale = max(threshold_at_fpr(profile_scores, target_fpr), _SCALE_FLOOR)
    classifier_scale = max(threshold_at_fpr(classifier_scores, target_fpr), _SCALE_FLOOR)
    scorer = CombinedScorer(profile, classifier, profile_scale, classifier_scale, 1.0)
    combined = scorer.combine(profile_scores, classifier_scores)
    threshold = threshold_at_fpr(combined, target_fpr)
    return CombinedScorer(profile, classifier, profile_scale, classifier_scale, threshold)


def _budget_figures(
    name: str, scores: np.ndarray, labels: np.ndarray, figures: dict[str, float]
) -> None:
    benign, attacks = scores[labels == 0], scores[labels == 1]
    if len(benign) == 0 or len(attacks) == 0:
        return
    for label, budget in FPR_BUDGETS.items():
        threshold = threshold_at_fpr(benign, budget)
        figures[f"{name}_csic_tpr_at_fpr_{label}"] = tpr_at_threshold(attacks, threshold)


def profile_figures(scorer: CombinedScorer, side: pd.DataFrame) -> dict[str, float]:
    """The figures of the module docstring for one side (none without CSIC requests)."""
    rows = csic_rows(side)
    if rows.empty:
        return {}
    labels = rows["label"].to_numpy()
    profile_scores, classifier_scores = scorer.component_scores(rows["text"].tolist())
    combined = scorer.combine(profile_scores, classifier_scores)
    figures: dict[str, float] = {
        "csic_attacks": float((labels == 1).sum()),
        "csic_benign": float((labels == 0).sum()),
    }
    for name, scores in (
        ("profile", profile_scores),
        ("classifier", classifier_scores),
        ("combined", combined),
    ):
        _budget_figures(name, scores, labels, figures)
    if (labels == 1).any():
        figures["combined_csic_tpr_default"] = tpr_at_threshold(
            combined[labels == 1], scorer.threshold
        )
    if (labels == 0).any():
        figures["combined_csic_fpr_default"] = fpr_at_threshold(
            combined[labels == 0], scorer.threshold
        )
    return figures
