"""How should the request profile combine its models' anomalies? Chosen on training data only.

Usage::

    .venv/bin/python pipelines/request_profile_folds.py [--data-dir ../shared/datasets/security]
        [--seed 0] [--folds 5]

Takes the CSIC 2010 requests of the fit and validation sides of
``pipelines/train_request_classifier.py``'s split (same seed; its held-out side is never
read), cuts them into ``--folds`` near-duplicate group folds, and for each fold learns a
:class:`~selfheal_ml.security.request_profile.RequestProfile` on the normal requests of the
other folds (each as often as the shop received it) and scores the fold's normal and
anomalous requests. Printed per way of combining the anomalies (the profile's score,
``-log10(prod(1 - a))``; their sum, as in Kruegel & Vigna; the highest one): TPR at FPR <= 0,
0.1 and 1 %, the threshold set on each fold's own normal requests, mean and worst over folds;
and pooled: every fold's out-of-fold scores together, the threshold set on all of their
normal requests at once (about five times a fold's: a 0 % FPR point closer to that of a large
test set, where one unusual normal request among tens of thousands sets it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BUDGETS = (0.0, 0.001, 0.01)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path("../shared/datasets/security"),
        help="the shared security datasets (read in place)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the group split (0)")
    parser.add_argument("--folds", type=int, default=5, help="folds of the training groups (5)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print the figures of the module docstring; 0 on success."""
    args = parse_args(argv)
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import GroupKFold

    from selfheal_ml.security.detection_metrics import threshold_at_fpr, tpr_at_threshold
    from selfheal_ml.security.near_duplicates import group_ids
    from selfheal_ml.security.request_parts import parse_request_text
    from selfheal_ml.security.request_profile import KINDS, RequestProfile
    from selfheal_ml.training.request_data import load_security_texts
    from selfheal_ml.training.request_training import split_texts

    split = split_texts(load_security_texts(args.data_dir), args.seed)
    train = pd.concat([split.fit, split.validation], ignore_index=True)
    train = train[train["source"].isin(["csic_normal", "csic_anomalous"])].reset_index(drop=True)
    groups = group_ids(train["text"].tolist(), train["label"].tolist())
    combiners: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "profile score (nines)": lambda a: -np.log10(np.prod(1 - np.minimum(a, 1 - 1e-12), 1)),
        "sum (Kruegel & Vigna)": lambda a: a.sum(axis=1),
        "highest anomaly": lambda a: a.max(axis=1),
    }
    rates: dict[str, list[list[float]]] = {name: [] for name in combiners}
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in combiners}
    pooled_labels: list[np.ndarray] = []
    for fold, (learn_rows, score_rows) in enumerate(
        GroupKFold(args.folds).split(train, groups=groups)
    ):
        learn = train.iloc[learn_rows]
        learn = learn[learn["source"] == "csic_normal"]
        profile = RequestProfile()
        for text, copies in zip(learn["text"], learn["copies"], strict=True):
            parts = parse_request_text(text)
            for _ in range(int(copies)):
                profile.learn(parts)
        scored = train.iloc[score_rows]
        anomalies = np.array(
            [[profile.anomalies(parse_request_text(t))[k] for k in KINDS] for t in scored["text"]]
        )
        labels = scored["label"].to_numpy()
        pooled_labels.append(labels)
        for name, combine in combiners.items():
            scores = combine(anomalies)
            pooled[name].append(scores)
            benign, attacks = scores[labels == 0], scores[labels == 1]
            rates[name].append(
                [tpr_at_threshold(attacks, threshold_at_fpr(benign, b)) for b in BUDGETS]
            )
        print(f"fold {fold}: {(labels == 0).sum()} normal, {(labels == 1).sum()} anomalous")
    for name, rows in rates.items():
        mean = " / ".join(f"{100 * v:.1f}" for v in np.mean(rows, axis=0))
        worst = " / ".join(f"{100 * v:.1f}" for v in np.min(rows, axis=0))
        print(f"{name:24s} TPR % at 0 / 0.1 / 1 % FPR: mean {mean}; worst fold {worst}")
    labels = np.concatenate(pooled_labels)
    print(f"pooled: {(labels == 0).sum()} normal, {(labels == 1).sum()} anomalous")
    for name, parts in pooled.items():
        scores = np.concatenate(parts)
        benign, attacks = scores[labels == 0], scores[labels == 1]
        figures = [tpr_at_threshold(attacks, threshold_at_fpr(benign, b)) for b in BUDGETS]
        shown = " / ".join(f"{100 * v:.1f}" for v in figures)
        print(f"{name:24s} TPR % at 0 / 0.1 / 1 % FPR, pooled: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
