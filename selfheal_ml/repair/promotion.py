"""The promotion gate: does a challenger replace the champion?

A pure decision over scores measured on the *same* holdout. The challenger is promoted only
if there is no champion yet, or if its macro-F1 beats the champion's (strictly, and by at
least ``margin``) and its top-2 accuracy is not worse by more than ``margin``. Anything else
(equal, slightly better, worse) keeps the champion: a worse challenger never becomes champion.

>>> from selfheal_ml.repair.metrics import Scores
>>> champion = Scores(accuracy=0.9, macro_f1=0.90, top2_accuracy=0.97, brier=0.2, count=100)
>>> better = Scores(accuracy=0.95, macro_f1=0.95, top2_accuracy=0.99, brier=0.1, count=100)
>>> promotion_decision(better, champion, margin=0.01).promote
True
>>> promotion_decision(champion, better, margin=0.01).promote
False
"""

from __future__ import annotations

from dataclasses import dataclass

from selfheal_ml.repair.metrics import Scores

DEFAULT_MARGIN = 0.005


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to promote, and why (for logs, tags and the model card)."""

    promote: bool
    reason: str


def promotion_decision(
    challenger: Scores, champion: Scores | None, margin: float = DEFAULT_MARGIN
) -> PromotionDecision:
    """Promote ``challenger`` over ``champion`` (``None``: there is none yet)?"""
    if margin < 0:
        raise ValueError(f"margin: expected >= 0, got {margin!r}")
    if challenger.count == 0:
        return PromotionDecision(False, "challenger was scored on an empty holdout")
    if champion is None:
        return PromotionDecision(True, "no champion yet")
    gain = challenger.macro_f1 - champion.macro_f1
    if gain <= 0.0 or gain < margin:
        return PromotionDecision(
            False, f"macro-F1 gain {gain:+.4f} is below the margin {margin:.4f}"
        )
    if challenger.top2_accuracy < champion.top2_accuracy - margin:
        return PromotionDecision(
            False,
            f"top-2 accuracy fell from {champion.top2_accuracy:.4f}"
            f" to {challenger.top2_accuracy:.4f}",
        )
    return PromotionDecision(True, f"macro-F1 gain {gain:+.4f} >= margin {margin:.4f}")
