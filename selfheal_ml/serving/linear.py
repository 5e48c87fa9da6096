"""Linear steps and models of a serving form, in numpy: what scikit-learn computes for them.

- :class:`Arcsinh` and :class:`Standardise`: ``FunctionTransformer(np.arcsinh)`` and
  ``StandardScaler.transform`` (``X -= mean_``, then ``X /= scale_``);
- :class:`LogisticScores`: ``LogisticRegression.predict_proba`` (binary: ``expit`` of the
  decision and its complement; more classes: the row-wise softmax) and ``predict`` (binary:
  decision > 0; more classes: the largest decision);
- :class:`CalibratedLinearScores`: ``CalibratedClassifierCV(LinearSVC, method="sigmoid")``
  for two classes: per fold ``expit(-(a * decision + b))``, averaged over the folds.

Inputs are dense float arrays or :class:`SparseRows` (hashed n-grams, :mod:`.text`).

>>> model = LogisticScores(np.array([[2.0, -1.0]]), np.array([0.5]))
>>> model.probabilities(np.array([[1.0, 1.0]])).round(6).tolist()
[[0.182426, 0.817574]]
>>> model.predicted_index(np.array([[1.0, 1.0], [-1.0, 0.0]])).tolist()
[1, 0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfheal_ml.errors import ValidationError


@dataclass(frozen=True)
class SparseRows:
    """Rows in compressed form (``indptr``, ``indices``, ``data``), as scikit-learn's CSR input."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def count(self) -> int:
        """The number of rows."""
        return len(self.indptr) - 1


def expit(values: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``."""
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax as ``sklearn.utils.extmath.softmax`` computes it (largest first out)."""
    shifted = scores - scores.max(axis=1).reshape((-1, 1))
    exponentials = np.exp(shifted)
    return np.asarray(exponentials / exponentials.sum(axis=1).reshape((-1, 1)), dtype=np.float64)


class Arcsinh:
    """``FunctionTransformer(np.arcsinh)``."""

    def transform(self, features: np.ndarray) -> np.ndarray:
        """``arcsinh`` of every feature."""
        return np.asarray(np.arcsinh(features), dtype=np.float64)


@dataclass(frozen=True)
class Standardise:
    """``StandardScaler.transform``: centre by ``mean`` and divide by ``scale`` (either may be
    absent, as with ``with_mean=False`` or ``with_std=False``)."""

    mean: np.ndarray | None
    scale: np.ndarray | None

    def transform(self, features: np.ndarray) -> np.ndarray:
        """The standardised features (a new array)."""
        result = np.array(features, dtype=np.float64)
        if self.mean is not None:
            result -= self.mean
        if self.scale is not None:
            result /= self.scale
        return result


def decision(
    coef: np.ndarray, intercept: np.ndarray, features: np.ndarray | SparseRows
) -> np.ndarray:
    """``features @ coef.T + intercept``, one column per row of ``coef``."""
    if isinstance(features, SparseRows):
        owners = np.repeat(np.arange(features.count), np.diff(features.indptr))
        products = features.data[:, None] * coef[:, features.indices].T
        sums = [
            np.bincount(owners, weights=products[:, column], minlength=features.count)
            for column in range(coef.shape[0])
        ]
        return np.asarray(np.stack(sums, axis=1) + intercept, dtype=np.float64)
    dense = np.asarray(features, dtype=np.float64)
    if not np.isfinite(dense).all():  # scikit-learn refuses these too
        raise ValidationError("features", "expected finite values, got NaN or infinity")
    return np.asarray(dense @ coef.T + intercept, dtype=np.float64)


@dataclass(frozen=True)
class LogisticScores:
    """A fitted ``LogisticRegression``: ``coef`` (one row for two classes) and ``intercept``."""

    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, features: np.ndarray | SparseRows) -> np.ndarray:
        """One column per class."""
        scores = decision(self.coef, self.intercept, features)
        if scores.shape[1] == 1:
            positive = expit(scores[:, 0])
            return np.stack([1 - positive, positive], axis=1)
        return softmax(scores)

    def predicted_index(self, features: np.ndarray | SparseRows) -> np.ndarray:
        """The index of the predicted class per row."""
        scores = decision(self.coef, self.intercept, features)
        if scores.shape[1] == 1:
            return (scores[:, 0] > 0).astype(np.int64)
        return np.asarray(scores.argmax(axis=1), dtype=np.int64)


@dataclass(frozen=True)
class CalibratedLinearScores:
    """Two-class sigmoid-calibrated linear models, one per fold: ``coef`` (folds x features),
    ``intercept``, and the calibrators' ``a`` and ``b`` (one per fold)."""

    coef: np.ndarray
    intercept: np.ndarray
    a: np.ndarray
    b: np.ndarray

    def probabilities(self, features: np.ndarray | SparseRows) -> np.ndarray:
        """The folds' calibrated probabilities, averaged."""
        scores = decision(self.coef, self.intercept, features)
        total = np.zeros((scores.shape[0], 2), dtype=np.float64)
        for fold in range(scores.shape[1]):
            proba = np.zeros((scores.shape[0], 2), dtype=np.float64)
            proba[:, 1] = expit(-(self.a[fold] * scores[:, fold] + self.b[fold]))
            proba[:, 0] = 1.0 - proba[:, 1]
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        total /= scores.shape[1]
        return total

    def predicted_index(self, features: np.ndarray | SparseRows) -> np.ndarray:
        """The class with the larger averaged probability."""
        return np.asarray(self.probabilities(features).argmax(axis=1), dtype=np.int64)
