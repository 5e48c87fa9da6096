"""The request profile, alone and combined with the injection classifier, on CSIC 2010.

Issue 13's reference for whole requests is OWASP CRS PL1 at 31.6 % TPR at 0 % FPR on CSIC
2010; the injection classifier alone reaches ~21 %, because most CSIC anomalies are not
injections. :class:`~selfheal_ml.security.request_profile.RequestProfile` models the shop's
own normal requests instead. On the same near-duplicate group split as the classifier:

1. the profile learns the CSIC normal requests of the **fit** side only, each as often as the
   shop received it (``copies``); nothing learns an anomalous request;
2. the profile is calibrated on the **validation** side's normal requests: its score is
   divided by its threshold at ``target_fpr`` there, so 1.0 means "as unusual as the rarest
   ``target_fpr`` of normal requests"; the classifier's score (value by value,
   :func:`~selfheal_ml.security.request_classifier.parameter_probabilities`) is divided by
   the classifier's own default threshold (chosen on validation over every benign text). The
   combined score is the higher of the two and flags at 1.0: a request is flagged when either
   rule flags it at its own threshold, as the live Security agent runs them. (The first
   version divided the classifier by its 0.1 % point on CSIC's normal requests, 0.149: some
   normal requests score high with it, and validation already showed the combination below
   the profile alone at 0 % FPR, 87.1 vs 95.6 %; ``docs/benchmarks.md``);
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

from selfheal_ml.security.application_profile import ApplicationProfile
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


APPLICATION = "CSIC 2010 shop: normal requests of the fit side"


@dataclass(frozen=True)
class CombinedScorer:
    """Profile and classifier scores, each divided by its threshold; the higher (docstring)."""

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

    def application_profile(self, target_fpr: float) -> ApplicationProfile:
        """The profile and its scale, as the registered model carries them."""
        return ApplicationProfile(self.profile, self.profile_scale, target_fpr, APPLICATION)


def calibrate(
    profile: RequestProfile,
    classifier: Any,
    validation: pd.DataFrame,
    target_fpr: float,
    classifier_threshold: float,
) -> CombinedScorer:
    """The profile's scale from the validation side's normal requests; the classifier's is
    its default threshold; the combination flags at 1.0 (module docstring)."""
    normal = validation[validation["source"] == "csic_normal"]["text"].tolist()
    profile_scores = profile.score_texts(normal)
    profile_scale = max(threshold_at_fpr(profile_scores, target_fpr), _SCALE_FLOOR)
    classifier_scale = max(classifier_threshold, _SCALE_FLOOR)
    return CombinedScorer(profile, classifier, profile_scale, classifier_scale, 1.0)


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
