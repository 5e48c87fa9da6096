"""The request classifier: candidate pipelines and the scorer the Security agent calls.

A candidate is a stock scikit-learn ``Pipeline``: :class:`HashedCharNgrams` (decoded,
normalised text to hashed character 1-5-grams) then a linear model. The trained model is
wrapped in ``FixedThresholdClassifier`` so the decision threshold chosen on validation
travels inside the registered artefact (``predict`` answers 0/1 at it, ``predict_proba``
gives the score). The Security agent scores with the registered model's numpy serving form
(:mod:`selfheal_ml.serving`): a new candidate's steps need an exporter there too
(``tests/unit/serving`` fits every candidate and compares).

scikit-learn is imported by the functions that build or wrap a model, not by this module: the
Security agent's scorer with the signature baseline (no champion registered) runs without it.

:class:`RequestScorer` is the small typed API: ``score(texts)`` returns attack
probabilities, ``is_attack(texts)`` applies the model's default threshold. Texts are single
payloads or whole requests built with :func:`~selfheal_ml.security.request_text.request_text`.
A scorer loaded with the application profile its model carries
(:mod:`~selfheal_ml.security.application_profile`) also scores whole requests of that
application against their normal form: :meth:`RequestScorer.request_units` gives each
request's score in units of the default threshold (1.0 flags), the higher of the
classifier's and the profile's, and :func:`attack_score` maps units to ``[0, 1)`` with the
threshold at 0.5.

>>> scorer = RequestScorer.signature_baseline()
>>> scorer.is_attack(["1 union select password from users--", "hello world"]).tolist()
[True, False]
>>> scorer.source
'signatures'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.request_text import parameter_values
from selfheal_ml.security.signatures import SignatureBaseline

if TYPE_CHECKING:  # imported by the functions that build models: the scorer runs without them
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline

    from selfheal_ml.security.application_profile import ApplicationProfile

TRUSTED_TYPES: tuple[str, ...] = ("selfheal_ml.security.ngram_features.HashedCharNgrams",)
_TINY = 1e-12


def _logistic(ngram_max: int, c: float) -> Callable[[int], Pipeline]:
    def build(seed: int) -> Pipeline:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        from selfheal_ml.security.ngram_features import HashedCharNgrams

        return Pipeline(
            [
                ("ngrams", HashedCharNgrams(ngram_min=1, ngram_max=ngram_max, bits=20)),
                ("model", LogisticRegression(C=c, solver="liblinear", random_state=seed)),
            ]
        )

    return build


def _linear_svm(c: float) -> Callable[[int], Pipeline]:
    """A linear SVM with sigmoid-calibrated probabilities (3-fold Platt scaling)."""

    def build(seed: int) -> Pipeline:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.pipeline import Pipeline
        from sklearn.svm import LinearSVC

        from selfheal_ml.security.ngram_features import HashedCharNgrams

        svm = LinearSVC(C=c, random_state=seed)
        return Pipeline(
            [
                ("ngrams", HashedCharNgrams(ngram_min=1, ngram_max=5, bits=20)),
                ("model", CalibratedClassifierCV(svm, method="sigmoid", cv=3)),
            ]
        )

    return build


CANDIDATES: dict[str, Callable[[int], Pipeline]] = {
    "logreg_char1to4_c10": _logistic(4, 10.0),
    "logreg_char1to5_c10": _logistic(5, 10.0),
    "logreg_char1to5_c100": _logistic(5, 100.0),
    "linear_svm_char1to5_c1": _linear_svm(1.0),
}


def build_candidate(name: str, seed: int) -> Pipeline:
    """A fresh, unfitted candidate pipeline."""
    if name not in CANDIDATES:
        raise ValidationError("candidate", f"expected one of {sorted(CANDIDATES)}, got {name!r}")
    return CANDIDATES[name](seed)


def with_threshold(model: Any, threshold: float) -> FixedThresholdClassifier:
    """``model`` (already fitted, left as it is) answering ``predict`` at ``threshold``."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    wrapped = FixedThresholdClassifier(
        FrozenEstimator(model), threshold=threshold, response_method="predict_proba"
    )
    classes = np.asarray(model.classes_)
    return wrapped.fit(np.zeros(len(classes)), classes)  # a frozen estimator is not refitted


def parameter_probabilities(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Per text, the highest P(attack) of the whole text and of each of its parameter values
    (:func:`~selfheal_ml.security.request_text.parameter_values`), scored in one batch."""
    pieces: list[str] = list(texts)
    owners: list[int] = list(range(len(texts)))
    for index, text in enumerate(texts):
        values = parameter_values(text)
        pieces.extend(values)
        owners.extend([index] * len(values))
    scores = attack_probabilities(model, pieces)
    best = np.zeros(len(texts), dtype=np.float64)
    np.maximum.at(best, np.asarray(owners, dtype=np.int64), scores)
    return best


def attack_probabilities(model: Any, texts: Any) -> np.ndarray:
    """P(attack) from anything with ``predict_proba`` and ``classes_`` containing 1."""
    probabilities = np.asarray(model.predict_proba(texts), dtype=np.float64)
    column = list(model.classes_).index(1)
    return probabilities[:, column]


def attack_score(units: np.ndarray) -> np.ndarray:
    """Scores in units of the default threshold mapped to ``[0, 1)``, ``u / (1 + u)``: order
    kept, the threshold (1 unit) at 0.5.

    >>> attack_score(np.array([0.0, 1.0, 3.0])).tolist()
    [0.0, 0.5, 0.75]
    """
    return units / (1.0 + units)


class RequestScorer:
    """Scores texts for injection with a model and the threshold it was chosen with."""

    def __init__(
        self,
        model: Any,
        threshold: float,
        source: str,
        version: str | None,
        application: ApplicationProfile | None = None,
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.source = source
        self.version = version
        self.application = application

    @classmethod
    def signature_baseline(cls) -> RequestScorer:
        """The documented signatures at the CRS inbound threshold (score 0.5)."""
        return cls(SignatureBaseline(), 0.5, "signatures", None)

    @classmethod
    def from_thresholded(cls, model: Any, source: str, version: str | None) -> RequestScorer:
        """A scorer for a registered model (a ``FixedThresholdClassifier``)."""
        return cls(model, float(model.threshold), source, version)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """P(attack) per text, in ``[0, 1]``."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        return attack_probabilities(self.model, list(texts))

    def is_attack(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean per text: score at or above the default threshold."""
        return self.score(texts) >= self.threshold

    def score_by_parameter(self, texts: Sequence[str]) -> np.ndarray:
        """Per whole request, the highest score of the request and of each parameter value."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        return parameter_probabilities(self.model, list(texts))

    def payload_units(self, texts: Sequence[str]) -> np.ndarray:
        """Per payload, :meth:`score` in units of the default threshold (1.0 flags)."""
        return self.score(texts) / max(self.threshold, _TINY)

    def request_units(self, texts: Sequence[str], with_profile: bool) -> np.ndarray:
        """Per whole request (``method uri body``), its score in units of the default
        threshold (1.0 flags): :meth:`score_by_parameter` over the threshold and, when
        ``with_profile`` and the scorer carries an application profile, the higher of that and
        the profile's own units (either rule flags at its own threshold, as the live Security
        agent runs them)."""
        units = self.score_by_parameter(texts) / max(self.threshold, _TINY)
        if with_profile and self.application is not None and len(texts) > 0:
            units = np.maximum(units, self.application.units(texts))
        return units
