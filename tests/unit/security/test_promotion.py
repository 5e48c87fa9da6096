"""The request classifier's gate: false positives first, then no loss of held-out TPR."""

from __future__ import annotations

import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.promotion import request_promotion_decision

SIGNATURES = {"injection_tpr_at_fpr_1pct": 0.8}


def figures(tpr: float, fp_rate: float) -> dict[str, float]:
    return {"injection_tpr_at_fpr_1pct": tpr, "libinjection_fp_benign_fpr_default": fp_rate}


def test_first_model_is_promoted_when_it_holds_against_false_positives() -> None:
    assert request_promotion_decision(figures(0.9, 0.01), None, SIGNATURES).promote
    assert not request_promotion_decision(
        figures(0.99, 0.2), None, SIGNATURES, fp_bound=0.05
    ).promote


def test_worse_challenger_never_replaces_the_champion() -> None:
    champion = figures(0.99, 0.0)
    decision = request_promotion_decision(figures(0.97, 0.0), champion, SIGNATURES)
    assert not decision.promote and "fell by 0.0200" in decision.reason
    assert request_promotion_decision(figures(0.97, 0.0), champion, SIGNATURES, margin=0.05).promote
    assert request_promotion_decision(figures(0.995, 0.0), champion, SIGNATURES).promote


def test_a_model_worse_than_the_signatures_is_not_promoted() -> None:
    decision = request_promotion_decision(figures(0.79, 0.0), None, SIGNATURES)
    assert not decision.promote and "signatures" in decision.reason


def test_missing_figures_and_bad_bounds() -> None:
    assert not request_promotion_decision({}, None, SIGNATURES).promote
    with pytest.raises(ValidationError, match="fp_bound"):
        request_promotion_decision(figures(1, 0), None, SIGNATURES, fp_bound=2.0)
