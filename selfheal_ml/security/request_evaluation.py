"""Figures of a request scorer on one side of the split, per source and pooled.

Three kinds of figure, all from scores (P(attack)) and labels:

- **TPR at an FPR budget** (0 %, 0.1 %, 1 %) per *group*: the threshold is set on the group's
  benign texts, the TPR read on its attacks. Groups: ``params`` (HttpParams single values,
  attacks vs its benign values), ``csic`` (anomalous vs normal whole requests),
  ``sqli_kaggle`` (its own two classes), ``libinjection`` (its lists against every benign
  text of the side, as it has no benign texts of its own), ``injection`` (every injection
  attack: all attacks but CSIC's anomalous requests, against every benign text) and ``all``
  (pooled).
- **At the model's default threshold**: the TPR of every attack source and the FPR of every
  benign source, ``libinjection_fp`` (benign text that looks like code) among them.
- Counts, so a reader can tell how many texts a rate stands on.

>>> import numpy as np, pandas as pd
>>> frame = pd.DataFrame({"label": [0, 0, 1, 1], "source": ["httpparams"] * 4})
>>> figures = evaluate_scores(np.array([0.1, 0.2, 0.3, 0.9]), frame, threshold=0.5)
>>> figures["params_tpr_at_fpr_0"], figures["httpparams_attack_tpr_default"]
(1.0, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfheal_ml.security.detection_metrics import (
    fpr_at_threshold,
    threshold_at_fpr,
    tpr_at_threshold,
)

FPR_BUDGETS: dict[str, float] = {"0": 0.0, "0.1pct": 0.001, "1pct": 0.01}
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    # group: (attack sources, benign sources; None = every benign text of the side)
    "params": (("httpparams",), ("httpparams",)),
    "csic": (("csic_anomalous",), ("csic_normal",)),
    "sqli_kaggle": (("sqli_kaggle",), ("sqli_kaggle",)),
    "libinjection": (("libinjection",), None),
    "injection": (("httpparams", "libinjection", "sqli_kaggle"), None),
    "all": (
        ("httpparams", "libinjection", "sqli_kaggle", "csic_anomalous"),
        None,
    ),
}


def _group_figures(
    name: str, scores: np.ndarray, frame: pd.DataFrame, figures: dict[str, float]
) -> None:
    attacks, benign_sources = GROUPS[name]
    labels = frame["label"].to_numpy()
    sources = frame["source"].to_numpy()
    attack_scores = scores[(labels == 1) & np.isin(sources, attacks)]
    benign_mask = labels == 0
    if benign_sources is not None:
        benign_mask &= np.isin(sources, benign_sources)
    benign_scores = scores[benign_mask]
    if len(attack_scores) == 0 or len(benign_scores) == 0:
        return
    figures[f"{name}_attacks"] = float(len(attack_scores))
    figures[f"{name}_benign"] = float(len(benign_scores))
    for label, budget in FPR_BUDGETS.items():
        threshold = threshold_at_fpr(benign_scores, budget)
        figures[f"{name}_tpr_at_fpr_{label}"] = tpr_at_threshold(attack_scores, threshold)


def evaluate_scores(scores: np.ndarray, frame: pd.DataFrame, threshold: float) -> dict[str, float]:
    """Every figure of the module docstring for one side (``frame``: label, source)."""
    figures: dict[str, float] = {}
    for name in GROUPS:
        _group_figures(name, scores, frame, figures)
    labels = frame["label"].to_numpy()
    for source in sorted(frame["source"].unique()):
        in_source = frame["source"].to_numpy() == source
        attacks, benign = scores[in_source & (labels == 1)], scores[in_source & (labels == 0)]
        if len(attacks):
            figures[f"{source}_attack_tpr_default"] = tpr_at_threshold(attacks, threshold)
        if len(benign):
            figures[f"{source}_benign_fpr_default"] = fpr_at_threshold(benign, threshold)
            figures[f"{source}_benign_count"] = float(len(benign))
    figures["all_tpr_default"] = tpr_at_threshold(scores[labels == 1], threshold)
    figures["all_fpr_default"] = fpr_at_threshold(scores[labels == 0], threshold)
    return figures
