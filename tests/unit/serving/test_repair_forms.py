"""The repair-strategy candidates served from their serving form answer as scikit-learn does.

For each family (logistic regression on arcsinh + standardised features, random forest,
histogram gradient boosting), on random heavy-tailed data and on the simulated incident
history the Learning agent trains on: ``predict_proba`` agrees to 1e-12 and ``predict`` is
identical. The trees are also checked with missing values, learned and unseen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.errors import ValidationError
from selfheal_ml.repair.classifier import CANDIDATES, build_candidate
from selfheal_ml.serving.export import export
from selfheal_ml.serving.loading import served_model
from selfheal_ml.serving.model import ServedModel
from selfheal_ml.training import Dataset, generate_history

TOLERANCE = 1e-12


def _heavy_tailed(rng: np.random.Generator, rows: int, columns: int) -> pd.DataFrame:
    """Symptom-like features: mostly 0, some around 1, some in the tens to thousands."""
    scale = rng.choice([0.0, 1.0, 40.0, 2000.0], size=(rows, columns), p=[0.5, 0.3, 0.15, 0.05])
    values = rng.standard_exponential((rows, columns)) * scale * rng.choice([-1, 1], (rows, 1))
    return pd.DataFrame(values, columns=[f"feature_{index}" for index in range(columns)])


def _labels(rng: np.random.Generator, features: pd.DataFrame, classes: int) -> list[str]:
    """Classes from quantiles of a noisy random projection (every class well represented)."""
    projection = np.arcsinh(features.to_numpy()) @ rng.normal(size=features.shape[1])
    noisy = projection + rng.normal(scale=projection.std() / 3 + 1e-9, size=len(projection))
    ranks = np.argsort(np.argsort(noisy))
    return [f"strategy_{rank * classes // len(ranks)}" for rank in ranks]


def _assert_served_like(fitted: object, served: ServedModel, rows: pd.DataFrame) -> None:
    expected = fitted.predict_proba(rows)  # type: ignore[attr-defined]
    np.testing.assert_allclose(served.predict_proba(rows), expected, rtol=0, atol=TOLERANCE)
    assert served.predict(rows).tolist() == fitted.predict(rows).tolist()  # type: ignore[attr-defined]
    assert served.classes_.tolist() == list(fitted.classes_)  # type: ignore[attr-defined]


@pytest.mark.parametrize("family", sorted(CANDIDATES))
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), classes=st.sampled_from([2, 3, 6]))
def test_random_data(family: str, seed: int, classes: int) -> None:
    rng = np.random.default_rng(seed)
    train = _heavy_tailed(rng, 240, 7)
    fitted = build_candidate(family, seed % 1000).fit(train, _labels(rng, train, classes))
    served = served_model(export(fitted))
    _assert_served_like(fitted, served, _heavy_tailed(rng, 300, 7))


@pytest.fixture(scope="module")
def history() -> tuple[Dataset, Dataset]:
    """The simulated incident history the Learning agent trains on, and a later window."""
    train = generate_history(seed=71, count=160, start=datetime(2026, 1, 5, tzinfo=UTC), days=40)
    later = generate_history(seed=72, count=60, start=datetime(2026, 3, 1, tzinfo=UTC), days=10)
    return Dataset.from_history(train), Dataset.from_history(later)


@pytest.mark.parametrize("family", sorted(CANDIDATES))
def test_incident_history(family: str, history: tuple[Dataset, Dataset]) -> None:
    train, later = history
    fitted = build_candidate(family, 0).fit(train.features, list(train.labels))
    served = served_model(export(fitted))
    columns = later.features.columns
    edges = pd.DataFrame(
        [np.zeros(len(columns)), np.full(len(columns), 1e6), np.full(len(columns), -3.5)],
        columns=columns,
    )
    _assert_served_like(fitted, served, pd.concat([later.features, edges], ignore_index=True))
    # the recommender passes one incident at a time
    _assert_served_like(fitted, served, later.features.iloc[[0]])


def test_columns_are_checked_as_scikit_learn_checks_them(history: tuple[Dataset, Dataset]) -> None:
    train, later = history
    served = served_model(
        export(build_candidate("random_forest", 0).fit(train.features, list(train.labels)))
    )
    with pytest.raises(ValidationError, match="columns"):
        served.predict_proba(later.features[list(reversed(later.features.columns))])


def _with_missing(rng: np.random.Generator, frame: pd.DataFrame, share: float) -> pd.DataFrame:
    return frame.mask(rng.random(frame.shape) < share)


@pytest.mark.parametrize("family", ["random_forest", "hist_gradient_boosting"])
@pytest.mark.parametrize("missing_in_training", [True, False])
def test_trees_with_missing_values(family: str, missing_in_training: bool) -> None:
    rng = np.random.default_rng(5)
    train = _heavy_tailed(rng, 300, 6)
    labels = _labels(rng, train, 3)
    if missing_in_training:
        train = _with_missing(rng, train, 0.2)
    fitted = build_candidate(family, 1).fit(train, labels)
    served = served_model(export(fitted))
    _assert_served_like(fitted, served, _with_missing(rng, _heavy_tailed(rng, 200, 6), 0.3))


def test_the_linear_model_refuses_missing_values_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(6)
    train = _heavy_tailed(rng, 200, 4)
    fitted = build_candidate("logistic_regression", 0).fit(train, _labels(rng, train, 3))
    served = served_model(export(fitted))
    rows = _with_missing(rng, _heavy_tailed(rng, 10, 4), 0.5)
    with pytest.raises(ValueError):
        fitted.predict_proba(rows)
    with pytest.raises(ValidationError, match="finite"):
        served.predict_proba(rows)
