"""Scores of a probabilistic classifier, and the Wilson interval for success rates.

:func:`score_probabilities` takes predicted probabilities over ``classes`` and the true labels
and returns accuracy, macro-F1, top-2 accuracy, the multi-class Brier score (mean over rows of
the squared distance between the probability vector and the one-hot truth, 0 best, 2 worst),
the per-class report and the confusion matrix. A true label the model never saw counts as
wrong everywhere.

>>> import numpy as np
>>> scores = score_probabilities(np.array([[0.9, 0.1], [0.3, 0.7]]), ["a", "b"], ["a", "a"])
>>> scores.accuracy, scores.top2_accuracy, round(scores.brier, 3)
(0.5, 1.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Scores:
    """How well a classifier did on one labelled set."""

    accuracy: float
    macro_f1: float
    top2_accuracy: float
    brier: float
    count: int
    labels: tuple[str, ...] = ()
    confusion: tuple[tuple[int, ...], ...] = ()
    per_class: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> dict[str, float]:
        """The scalar metrics, for logging."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "top2_accuracy": self.top2_accuracy,
            "brier": self.brier,
        }


def score_probabilities(
    probabilities: np.ndarray, classes: Sequence[str], truth: Sequence[str]
) -> Scores:
    """Score ``probabilities`` (rows: samples, columns: ``classes``) against ``truth``."""
    classes = [str(name) for name in classes]
    truth = [str(label) for label in truth]
    if not truth:
        return Scores(accuracy=0.0, macro_f1=0.0, top2_accuracy=0.0, brier=0.0, count=0)
    index = {name: column for column, name in enumerate(classes)}
    # imported here: the playbook's Wilson interval (read by the API) needs no scikit-learn
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    order = np.argsort(-probabilities, axis=1)
    predicted = [classes[row[0]] for row in order]
    top2 = [label in {classes[c] for c in row[:2]} for label, row in zip(truth, order, strict=True)]
    onehot = np.zeros_like(probabilities, dtype=float)
    extra = np.zeros(len(truth))
    for row, label in enumerate(truth):
        if label in index:
            onehot[row, index[label]] = 1.0
        else:
            extra[row] = 1.0  # the true class has probability 0
    brier = float(np.mean(((probabilities - onehot) ** 2).sum(axis=1) + extra))
    labels = sorted(set(truth) | set(predicted))
    report = classification_report(
        truth, predicted, labels=labels, output_dict=True, zero_division=0
    )
    matrix = confusion_matrix(truth, predicted, labels=labels)
    return Scores(
        accuracy=float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        top2_accuracy=float(np.mean(top2)),
        brier=brier,
        count=len(truth),
        labels=tuple(labels),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        per_class=dict(report),
    )


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95 % by default); ``(0, 1)`` for no trials.

    >>> [round(bound, 3) for bound in wilson_interval(8, 10)]
    [0.49, 0.943]
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    """
    if trials <= 0:
        return 0.0, 1.0
    successes = max(0, min(successes, trials))
    rate = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - margin)
    high = 1.0 if successes == trials else min(1.0, centre + margin)
    return low, high
