"""The request classifier's promotion gate: does a challenger replace the champion?

A pure decision over held-out figures (see :mod:`selfheal_ml.security.request_evaluation`)
measured on the *same* test side. The challenger is promoted only if it holds against benign
text that looks like code (its FPR on the held-out part of libinjection's
``false_positives.txt``, at its own default threshold, is at most ``fp_bound``), it is not
worse than the signature baseline that would otherwise answer (held-out TPR at 1 % FPR on
injection attacks against every benign text), and, when a champion exists, that TPR is not
worse than the champion's by more than ``margin``.

The default bound, 10 %, is what a replacement for signatures can be asked for on this list:
every line of it was once flagged by libinjection, the signature baseline flags about 15 %
of it, and the held-out part has about 80 lines, so one line is 1.2 points.

>>> challenger = {"injection_tpr_at_fpr_1pct": 0.99, "libinjection_fp_benign_fpr_default": 0.01}
>>> signatures = {"injection_tpr_at_fpr_1pct": 0.80}
>>> request_promotion_decision(challenger, None, signatures).promote
True
>>> worse = {"injection_tpr_at_fpr_1pct": 0.95, "libinjection_fp_benign_fpr_default": 0.0}
>>> request_promotion_decision(worse, challenger, signatures).promote
False
>>> noisy = {"injection_tpr_at_fpr_1pct": 1.0, "libinjection_fp_benign_fpr_default": 0.2}
>>> request_promotion_decision(noisy, None, signatures).reason
'false-positive-list FPR 0.2000 above the bound 0.1000'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from selfheal_ml.errors import ValidationError

HEADLINE = "injection_tpr_at_fpr_1pct"
FALSE_POSITIVE_LIST = "libinjection_fp_benign_fpr_default"
DEFAULT_FP_BOUND = 0.10
DEFAULT_MARGIN = 0.0


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, and why (for logs, version tags and the model card)."""

    promote: bool
    reason: str


def request_promotion_decision(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    signatures: Mapping[str, float],
    fp_bound: float = DEFAULT_FP_BOUND,
    margin: float = DEFAULT_MARGIN,
) -> GateDecision:
    """Promote ``challenger`` over ``champion`` (``None``: there is none yet)?

    ``signatures`` are the signature baseline's figures on the same held-out side.
    """
    if not 0.0 <= fp_bound <= 1.0:
        raise ValidationError("fp_bound", f"expected 0 <= fp_bound <= 1, got {fp_bound!r}")
    if margin < 0.0:
        raise ValidationError("margin", f"expected >= 0, got {margin!r}")
    if HEADLINE not in challenger or FALSE_POSITIVE_LIST not in challenger:
        return GateDecision(False, "challenger has no held-out TPR or false-positive-list FPR")
    fp_rate = challenger[FALSE_POSITIVE_LIST]
    if fp_rate > fp_bound:
        return GateDecision(
            False, f"false-positive-list FPR {fp_rate:.4f} above the bound {fp_bound:.4f}"
        )
    if challenger[HEADLINE] < signatures.get(HEADLINE, 0.0):
        return GateDecision(
            False,
            f"held-out TPR@1%FPR {challenger[HEADLINE]:.4f} is below the signatures'"
            f" {signatures.get(HEADLINE, 0.0):.4f}",
        )
    if champion is None or HEADLINE not in champion:
        return GateDecision(True, "no scorable champion yet")
    change = challenger[HEADLINE] - champion[HEADLINE]
    if change < -margin:
        return GateDecision(
            False, f"held-out TPR@1%FPR fell by {-change:.4f} (margin {margin:.4f})"
        )
    return GateDecision(True, f"held-out TPR@1%FPR change {change:+.4f} within the margin")
