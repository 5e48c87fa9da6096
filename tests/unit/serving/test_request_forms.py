"""The request classifier candidates served from their serving form score as scikit-learn does.

Every candidate (logistic regressions and the calibrated linear SVM over hashed n-grams),
wrapped with its threshold as training registers it: ``predict_proba`` agrees to 1e-12 and
``predict`` (at the threshold) is identical, on attack-like, benign and arbitrary texts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.security.request_classifier import (
    CANDIDATES,
    RequestScorer,
    build_candidate,
    with_threshold,
)
from selfheal_ml.serving.export import export
from selfheal_ml.serving.loading import served_model
from selfheal_ml.serving.model import ServedModel

TOLERANCE = 1e-12


def _corpus(seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    benign = [
        f"get /item.jsp?id={rng.integers(999)}&name=ana{rng.integers(99)}" for _ in range(150)
    ]
    attacks = [
        f"get /item.jsp?id={rng.integers(99)}' or '{n}'='{n}' union select {n}--"
        for n in rng.integers(0, 999, size=150)
    ]
    return benign + attacks, np.array([0] * 150 + [1] * 150)


@pytest.fixture(scope="module")
def fitted() -> dict[str, tuple[object, ServedModel]]:
    texts, labels = _corpus(0)
    models = {}
    for name in CANDIDATES:
        model = with_threshold(build_candidate(name, 0).fit(texts, labels), 0.62)
        models[name] = (model, served_model(export(model)))
    return models


def _assert_scored_alike(model: object, served: ServedModel, texts: list[str]) -> None:
    expected = model.predict_proba(texts)  # type: ignore[attr-defined]
    np.testing.assert_allclose(served.predict_proba(texts), expected, rtol=0, atol=TOLERANCE)
    assert served.predict(texts).tolist() == model.predict(texts).tolist()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_every_candidate(name: str, fitted: dict[str, tuple[object, ServedModel]]) -> None:
    model, served = fitted[name]
    texts, _ = _corpus(1)
    extra = ["", "é ünïcode %27%20OR%201=1", "<script>alert(1)</script>", "a" * 3000]
    _assert_scored_alike(model, served, texts + extra)
    assert served.threshold == 0.62 and served.classes_.tolist() == [0, 1]
    # the Security agent's scorer reads the served model as it read the pipeline
    served_scorer = RequestScorer.from_thresholded(served, "test", "1")
    sklearn_scorer = RequestScorer.from_thresholded(model, "test", "1")
    assert served_scorer.is_attack(texts).tolist() == sklearn_scorer.is_attack(texts).tolist()
    np.testing.assert_allclose(
        served_scorer.score_by_parameter(texts[:20]),
        sklearn_scorer.score_by_parameter(texts[:20]),
        rtol=0,
        atol=TOLERANCE,
    )


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_arbitrary_texts(texts: list[str], fitted: dict[str, tuple[object, ServedModel]]) -> None:
    for model, served in fitted.values():
        _assert_scored_alike(model, served, texts)
