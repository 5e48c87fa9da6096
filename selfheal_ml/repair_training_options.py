"""The options of the repair-classifier training pipeline, without importing the pipeline.

``selfheal-ml train repair`` and ``pipelines/train_repair_classifier.py`` both describe their
options with :func:`add_arguments`, so ``--help`` answers at once: the pipeline itself (MLflow,
scikit-learn, the simulator) is imported only when training starts. The model card is written
only when asked (``--write-card`` or ``--card PATH``): a training run leaves the tracked
``models/repair-strategy.md`` alone by default.
"""

from __future__ import annotations

import argparse

TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # = selfheal_ml.tracking.DEFAULT_TRACKING_URI
MARGIN = 0.005  # = selfheal_ml.repair.promotion.DEFAULT_MARGIN (a test keeps them equal)
CARD = "models/repair-strategy.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The pipeline's options, each with its help text."""
    parser.add_argument(
        "--incidents", type=int, default=5000, help="simulated training incidents (default 5000)"
    )
    parser.add_argument(
        "--holdout-incidents",
        type=int,
        default=1000,
        help="simulated held-out incidents, from --holdout-seed (default 1000)",
    )
    parser.add_argument(
        "--days", type=float, default=180.0, help="simulated days they spread over (default 180)"
    )
    parser.add_argument("--seed", type=int, default=11, help="seed of the training incidents")
    parser.add_argument(
        "--holdout-seed", type=int, default=12, help="seed of the held-out incidents"
    )
    parser.add_argument(
        "--tracking-uri", default=None, help=f"MLflow tracking store (default {TRACKING_URI})"
    )
    parser.add_argument(
        "--write-card",
        action="store_true",
        help=f"rewrite the tracked model card {CARD} with this run's figures",
    )
    parser.add_argument("--card", default=None, help="write the model card to this file instead")
    parser.add_argument("--db", default=None, help="also store the histories in this DuckDB file")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes generating incidents (default 2)"
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=MARGIN,
        help=f"macro-F1 a challenger must gain over the champion to be promoted (default {MARGIN})",
    )


def card_path(args: argparse.Namespace) -> str | None:
    """Where the model card goes: ``--card``, the tracked card with ``--write-card``, else
    nowhere."""
    if args.card:
        return str(args.card)
    return CARD if args.write_card else None
