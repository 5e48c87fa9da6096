"""The options of the request-classifier training pipeline, without importing the pipeline.

``pipelines/train_request_classifier.py`` parses its arguments here first, so ``--help``
answers at once: scikit-learn, MLflow and the security data load only when training starts.
The defaults repeat the package's constants (a test keeps them equal).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2
DATA_DIR = Path("../shared/datasets/security")  # = training.request_data.DEFAULT_DATA_DIR
TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # = tracking.DEFAULT_TRACKING_URI
CANDIDATES = (  # = security.request_classifier.CANDIDATES
    "linear_svm_char1to5_c1",
    "logreg_char1to4_c10",
    "logreg_char1to5_c10",
    "logreg_char1to5_c100",
)
TARGET_FPR = 0.001  # = training.request_training.DEFAULT_TARGET_FPR
FP_BOUND = 0.1  # = security.promotion.DEFAULT_FP_BOUND
MARGIN = 0.0  # = security.promotion.DEFAULT_MARGIN
FP_WEIGHT = 30.0  # = training.request_training.DEFAULT_FP_WEIGHT
FP_LIST_TARGET = 0.0  # = training.request_training.DEFAULT_FP_LIST_TARGET


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line arguments, each described."""
    parser = OneLineParser(
        prog="train_request_classifier.py", description="Train the request classifier."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help=f"the security datasets ({DATA_DIR})"
    )
    parser.add_argument("--tracking-uri", default=TRACKING_URI, help="MLflow tracking store")
    parser.add_argument(
        "--card", default="models/request-classifier.md", help="model card file ('' to skip)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the models")
    parser.add_argument(
        "--candidate", action="append", choices=CANDIDATES, help="repeatable (default: all)"
    )
    parser.add_argument(
        "--target-fpr",
        type=_fraction,
        default=TARGET_FPR,
        help=f"false-positive rate the threshold is set for ({TARGET_FPR})",
    )
    parser.add_argument(
        "--fp-bound",
        type=_fraction,
        default=FP_BOUND,
        help=f"the promotion gate's bound on false positives ({FP_BOUND})",
    )
    parser.add_argument(
        "--margin",
        type=_fraction,
        default=MARGIN,
        help=f"what a challenger must gain over the champion to be promoted ({MARGIN})",
    )
    parser.add_argument(
        "--fp-weight",
        type=float,
        default=FP_WEIGHT,
        help="training weight of a false_positives.txt row (default 30)",
    )
    parser.add_argument(
        "--csic-anomalous",
        choices=("learn", "evaluate"),
        default="evaluate",
        help="only evaluate on CSIC's anomalous requests (default), or also learn them",
    )
    parser.add_argument(
        "--fp-list-target",
        type=_fraction,
        default=FP_LIST_TARGET,
        help="share of false_positives.txt the threshold may flag (0: as --target-fpr)",
    )
    parser.add_argument(
        "--sample", type=int, default=None, help="train on a random sample of N texts (tests)"
    )
    return parser.parse_args(argv)
