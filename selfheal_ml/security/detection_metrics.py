"""Detection figures at a fixed false-positive budget: the threshold and the TPR it buys.

A WAF is judged by how many attacks it catches while refusing almost no legitimate traffic,
so the figures here are true-positive rates at a false-positive rate no higher than a budget
(0 %, 0.1 %, 1 %). :func:`threshold_at_fpr` picks the lowest threshold whose FPR on the
benign scores stays within the budget (a text is flagged when ``score >= threshold``);
:func:`tpr_at_threshold` and :func:`fpr_at_threshold` read the rates back.

>>> import numpy as np
>>> benign = np.array([0.1, 0.2, 0.3, 0.9])
>>> attacks = np.array([0.5, 0.95, 0.99])
>>> float(threshold_at_fpr(benign, 0.0)) > 0.9
True
>>> tpr_at_threshold(attacks, threshold_at_fpr(benign, 0.0))
0.6666666666666666
>>> tpr_at_threshold(attacks, threshold_at_fpr(benign, 0.25))
1.0
"""

from __future__ import annotations

import math

import numpy as np

from selfheal_ml.errors import ValidationError


def threshold_at_fpr(benign_scores: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold at which at most ``max_fpr`` of ``benign_scores`` are flagged."""
    if not 0.0 <= max_fpr < 1.0:
        raise ValidationError("max_fpr", f"expected 0 <= max_fpr < 1, got {max_fpr!r}")
    if len(benign_scores) == 0:
        raise ValidationError("benign_scores", "expected at least one benign score")
    ordered = np.sort(np.asarray(benign_scores, dtype=np.float64))[::-1]
    allowed = math.floor(max_fpr * len(ordered) + 1e-9)  # benign texts we may flag
    if allowed >= len(ordered):
        return float(ordered[-1])
    # flag strictly above the (allowed+1)-th highest benign score
    return float(np.nextafter(ordered[allowed], np.inf))


def tpr_at_threshold(attack_scores: np.ndarray, threshold: float) -> float:
    """Share of attacks flagged (``score >= threshold``); NaN without attacks."""
    if len(attack_scores) == 0:
        return float("nan")
    return float(np.mean(np.asarray(attack_scores) >= threshold))


def fpr_at_threshold(benign_scores: np.ndarray, threshold: float) -> float:
    """Share of benign texts flagged; NaN without benign texts."""
    if len(benign_scores) == 0:
        return float("nan")
    return float(np.mean(np.asarray(benign_scores) >= threshold))
