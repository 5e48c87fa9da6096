"""The profile learns only the fit side's normal requests; the combination is calibrated on
validation and catches what either scorer alone catches."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfheal_ml.security.application_profile import ApplicationProfile
from selfheal_ml.training.request_profile_evaluation import (
    calibrate,
    fit_profile,
    profile_figures,
)


class QuoteClassifier:
    """A stand-in injection classifier: a quote makes a text an attack."""

    classes_ = np.array([0, 1])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        attack = np.array([0.9 if "'" in text or "%27" in text else 0.1 for text in texts])
        return np.column_stack([1 - attack, attack])


def _normal(number: int) -> str:
    return f"post /shop/add.jsp id={number % 3}&price={20 + number % 7}&B1=Add"


def _side(normal: range, anomalous: list[str], copies: int = 1) -> pd.DataFrame:
    texts = [_normal(number) for number in normal] + anomalous
    return pd.DataFrame(
        {
            "text": texts,
            "label": [0] * len(normal) + [1] * len(anomalous),
            "source": ["csic_normal"] * len(normal) + ["csic_anomalous"] * len(anomalous),
            "copies": [copies] * len(normal) + [1] * len(anomalous),
        }
    )


INJECTED = "post /shop/add.jsp id=1&price=20%27--&B1=Add"  # the classifier's and the profile's
TAMPERED = "post /shop/add.jsp id=1&price=20&B1=Remove"  # the profile's only
PROBE = "get /shop/add.jsp.BAK"  # the profile's only


def test_the_profile_learns_only_normal_requests_each_copy() -> None:
    fit = _side(range(30), [PROBE], copies=2)
    profile = fit_profile(fit)
    assert profile.observations_ == 60  # 30 normal requests twice; the probe never learnt


def test_the_combination_catches_what_the_classifier_misses() -> None:
    fit = _side(range(60), [TAMPERED])
    validation = _side(range(60, 90), [INJECTED])
    test = _side(range(90, 120), [INJECTED, TAMPERED, PROBE])
    scorer = calibrate(fit_profile(fit), QuoteClassifier(), validation, 0.001, 0.5)
    figures = profile_figures(scorer, test)
    assert figures["csic_attacks"] == 3 and figures["csic_benign"] == 30
    assert figures["classifier_csic_tpr_at_fpr_0"] == 1 / 3
    assert figures["profile_csic_tpr_at_fpr_0"] == 1.0
    assert figures["combined_csic_tpr_at_fpr_0"] == 1.0
    assert figures["combined_csic_fpr_default"] == 0.0
    assert figures["combined_csic_tpr_default"] == 1.0


def test_a_side_without_csic_requests_has_no_figures() -> None:
    fit = _side(range(30), [])
    scorer = calibrate(fit_profile(fit), QuoteClassifier(), _side(range(30, 40), []), 0.001, 0.5)
    other = pd.DataFrame({"text": ["1' or 1=1"], "label": [1], "source": ["libinjection"]})
    assert profile_figures(scorer, other) == {}


def test_the_classifier_counts_at_its_own_threshold_and_the_profile_travels_as_json() -> None:
    fit = _side(range(60), [])
    validation = _side(range(60, 90), [])
    scorer = calibrate(fit_profile(fit), QuoteClassifier(), validation, 0.001, 0.5)
    assert scorer.threshold == 1.0 and scorer.classifier_scale == 0.5
    normal = [_normal(number) for number in range(90, 100)]
    profile_scores, classifier_scores = scorer.component_scores(normal)
    assert scorer.combine(profile_scores, classifier_scores).max() < 1.0  # 0.1 / 0.5 = 0.2
    carried = scorer.application_profile(0.001)
    loaded = ApplicationProfile.from_json(json.loads(json.dumps(carried.to_json())))
    texts = [*normal, INJECTED, TAMPERED, PROBE]
    assert np.array_equal(loaded.units(texts), carried.units(texts))
    assert loaded.scale == scorer.profile_scale and loaded.applies_to(texts)
