"""``ServedModel``: a serving form's steps and estimator behind scikit-learn's names.

The service calls what it called on the scikit-learn pipeline: ``predict_proba(X)``,
``predict(X)``, ``classes_`` and, for a thresholded model, ``threshold``. ``X`` is a feature
DataFrame (its columns must be the model's features, in order, as scikit-learn checks), a 2-D
array, or texts for a text model.

>>> from selfheal_ml.serving.linear import LogisticScores
>>> model = ServedModel((), LogisticScores(np.array([[1.0]]), np.array([0.0])),
...     np.array(["a", "b"]), ("x",), None)
>>> model.predict(np.array([[-2.0], [3.0]])).tolist()
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from selfheal_ml.errors import ValidationError


class Step(Protocol):
    """A transform of a serving form (arcsinh, standardising, hashed n-grams)."""

    def transform(self, features: Any) -> Any:
        """The step's output for ``features``."""
        ...


class Scores(Protocol):
    """The final estimator of a serving form."""

    def probabilities(self, features: Any) -> np.ndarray:
        """One column per class."""
        ...

    def predicted_index(self, features: Any) -> np.ndarray:
        """The index of the predicted class per row."""
        ...


class ServedModel:
    """A model served from its serving form (see the module docstring)."""

    def __init__(
        self,
        steps: Sequence[Step],
        estimator: Scores,
        classes: np.ndarray,
        feature_names: tuple[str, ...] | None,
        threshold: float | None,
        *,
        texts: bool = False,
    ) -> None:
        self.steps = tuple(steps)
        self.estimator = estimator
        self.classes_ = classes
        self.feature_names = feature_names
        self.threshold = threshold
        self.texts = texts

    def _features(self, inputs: Any) -> Any:
        """``inputs`` through the steps; table inputs are checked against the feature names."""
        if not self.texts:
            names = self.feature_names
            if names is not None and hasattr(inputs, "columns") and tuple(inputs.columns) != names:
                raise ValidationError(
                    "features", f"expected columns {list(names)}, got {list(inputs.columns)}"
                )
            inputs = np.asarray(inputs, dtype=np.float64)
            if inputs.ndim != 2 or (names is not None and inputs.shape[1] != len(names)):
                raise ValidationError(
                    "features",
                    f"expected {len(names or ())} columns, got shape {inputs.shape}",
                )
        for step in self.steps:
            inputs = step.transform(inputs)
        return inputs

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """Class probabilities, one column per class of :attr:`classes_`."""
        return self.estimator.probabilities(self._features(inputs))

    def predict(self, inputs: Any) -> np.ndarray:
        """The predicted class per row; a thresholded model answers the second class where its
        probability is at or above :attr:`threshold` (``FixedThresholdClassifier``)."""
        features = self._features(inputs)
        if self.threshold is not None:
            positive = self.estimator.probabilities(features)[:, 1] >= self.threshold
            return np.asarray(self.classes_[positive.astype(np.int64)])
        return np.asarray(self.classes_[self.estimator.predicted_index(features)])
