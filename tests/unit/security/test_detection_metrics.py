"""Thresholds honour the FPR budget exactly, including ties and the 0 % budget."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.detection_metrics import (
    fpr_at_threshold,
    threshold_at_fpr,
    tpr_at_threshold,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("budget", [0.0, 0.001, 0.01, 0.1])
def test_fpr_never_exceeds_the_budget(seed: int, budget: float) -> None:
    rng = np.random.default_rng(seed)
    benign = np.round(rng.random(2000), 2)  # many ties
    threshold = threshold_at_fpr(benign, budget)
    assert fpr_at_threshold(benign, threshold) <= budget
    # and the threshold is tight: the next lower benign score would break the budget
    lower = benign[benign < threshold]
    if lower.size:
        assert fpr_at_threshold(benign, float(lower.max())) > budget


def test_zero_budget_sits_just_above_the_highest_benign_score() -> None:
    threshold = threshold_at_fpr(np.array([0.2, 0.7]), 0.0)
    assert tpr_at_threshold(np.array([0.7, 0.71]), threshold) == 0.5


def test_bad_budget_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_fpr"):
        threshold_at_fpr(np.array([0.1]), 1.0)
