"""The repair-strategy classifier candidates: stock scikit-learn ``Pipeline`` s.

Each candidate takes the feature DataFrame (columns :data:`FEATURE_NAMES`) and predicts the
repair strategy that worked. Symptom strengths are heavy-tailed, so the pipeline first
compresses them with ``arcsinh`` for the linear model (trees do not care about monotone
rescaling). The registry is
an explicit typed mapping, no string-keyed dynamic imports. The service predicts with each
candidate's numpy serving form (:mod:`selfheal_ml.serving`): a new step or estimator needs an
exporter there too (``tests/unit/serving`` fits every candidate and compares).

>>> sorted(CANDIDATES)
['hist_gradient_boosting', 'logistic_regression', 'random_forest']
>>> build_candidate("logistic_regression", seed=0).steps[-1][0]
'model'
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from selfheal_ml.errors import ValidationError


def _compress() -> FunctionTransformer:
    """``arcsinh``: log-like for large scores, linear near 0, keeps the sign (a numpy ufunc,
    so the saved pipeline holds only trusted types)."""
    return FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")


def logistic_regression(seed: int) -> Pipeline:
    """Multinomial logistic regression on standardised, compressed features."""
    model = LogisticRegression(C=3.0, max_iter=2000, random_state=seed)
    return Pipeline([("compress", _compress()), ("scale", StandardScaler()), ("model", model)])


def random_forest(seed: int) -> Pipeline:
    """A random forest (200 trees, balanced class weights)."""
    model = RandomForestClassifier(
        n_estimators=200,
        min_samples_leaf=2,
        class_weight="balanced",
        random_state=seed,
    )
    return Pipeline([("model", model)])


def hist_gradient_boosting(seed: int) -> Pipeline:
    """Histogram gradient boosting with early stopping on an internal split."""
    model = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        early_stopping=True,
        random_state=seed,
    )
    return Pipeline([("model", model)])


# the non-default types the candidates' saved (skops) form holds: tree node storage
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)

CANDIDATES: dict[str, Callable[[int], Pipeline]] = {
    "logistic_regression": logistic_regression,
    "random_forest": random_forest,
    "hist_gradient_boosting": hist_gradient_boosting,
}


def build_candidate(name: str, seed: int) -> Pipeline:
    """A fresh, unfitted candidate pipeline by name."""
    if name not in CANDIDATES:
        raise ValidationError("candidate", f"expected one of {sorted(CANDIDATES)}, got {name!r}")
    return CANDIDATES[name](seed)
