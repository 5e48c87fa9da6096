"""The pipeline behind ``pipelines/train_request_classifier.py``.

Reads the shared security data, trains and logs every candidate to MLflow (experiment
``request-classifier``), registers the chosen model, runs the promotion gate and writes the
model card. Progress goes to stderr; a bad argument or a missing data folder is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from selfheal_ml.errors import ValidationError
from selfheal_ml.security.promotion import DEFAULT_FP_BOUND, DEFAULT_MARGIN
from selfheal_ml.security.request_classifier import CANDIDATES
from selfheal_ml.tracking import DEFAULT_TRACKING_URI, Tracker
from selfheal_ml.training.request_card import request_model_card
from selfheal_ml.training.request_data import DEFAULT_DATA_DIR, load_security_texts
from selfheal_ml.training.request_training import (
    DEFAULT_FP_LIST_TARGET,
    DEFAULT_FP_WEIGHT,
    DEFAULT_TARGET_FPR,
    RequestTrainingReport,
    train_request_classifier,
)

EXIT_USAGE = 2


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
    """Command-line arguments."""
    parser = OneLineParser(
        prog="train_request_classifier.py", description="Train the request classifier."
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--tracking-uri", default=DEFAULT_TRACKING_URI)
    parser.add_argument("--card", default="models/request-classifier.md", help="'' to skip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--candidate", action="append", choices=sorted(CANDIDATES), help="default: all"
    )
    parser.add_argument("--target-fpr", type=_fraction, default=DEFAULT_TARGET_FPR)
    parser.add_argument("--fp-bound", type=_fraction, default=DEFAULT_FP_BOUND)
    parser.add_argument("--margin", type=_fraction, default=DEFAULT_MARGIN)
    parser.add_argument(
        "--fp-weight",
        type=float,
        default=DEFAULT_FP_WEIGHT,
        help="training weight of a false_positives.txt row (default 30)",
    )
    parser.add_argument(
        "--csic-anomalous",
        choices=("learn", "evaluate"),
        default="evaluate",
        help="only evaluate on CSIC's anomalous requests (default), or also learn them",
    )
    parser.add_argument("--fp-list-target", type=_fraction, default=DEFAULT_FP_LIST_TARGET)
    parser.add_argument(
        "--sample", type=int, default=None, help="train on a random sample of N texts (tests)"
    )
    return parser.parse_args(argv)


def _progress(message: str) -> None:
    print(f"[train_request_classifier] {message}", file=sys.stderr, flush=True)


def summary(report: RequestTrainingReport) -> str:
    """A few lines for the terminal."""
    held, base = report.held_out, report.baseline_held_out
    lines = [f"chosen {report.best}; default threshold {report.threshold:.6f}"]
    for group in ("params", "sqli_kaggle", "libinjection", "injection", "csic", "all"):
        model = "/".join(f"{held.get(f'{group}_tpr_at_fpr_{b}', float('nan')):.3f}"
                         for b in ("0", "0.1pct", "1pct"))  # fmt: skip
        signatures = "/".join(f"{base.get(f'{group}_tpr_at_fpr_{b}', float('nan')):.3f}"
                              for b in ("0", "0.1pct", "1pct"))  # fmt: skip
        lines.append(f"held-out {group:12s} TPR@0/0.1/1% FPR model {model} signatures {signatures}")
    if "by_parameter_csic_tpr_at_fpr_0" in held:
        by_value = "/".join(f"{held[f'by_parameter_csic_tpr_at_fpr_{b}']:.3f}"
                            for b in ("0", "0.1pct", "1pct"))  # fmt: skip
        lines.append(f"held-out csic by parameter TPR@0/0.1/1% FPR model {by_value}")
    lines.append(
        "held-out false_positives.txt FPR at the default threshold:"
        f" {held.get('libinjection_fp_benign_fpr_default', float('nan')):.3f}"
    )
    lines.append(
        f"registered request-classifier v{report.version}; {report.decision.reason};"
        f" champion: v{report.champion_version}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 on bad arguments or missing data."""
    args = parse_args(argv)
    command = "python pipelines/train_request_classifier.py " + shlex.join(
        list(sys.argv[1:] if argv is None else argv)
    )
    started = time.perf_counter()
    try:
        _progress(f"reading {args.data_dir}")
        frame = load_security_texts(args.data_dir)
        if args.fp_weight <= 0:
            raise ValueError(f"--fp-weight: expected > 0, got {args.fp_weight}")
        if args.sample is not None:
            frame = frame.sample(min(args.sample, len(frame)), random_state=args.seed)
        _progress(f"{len(frame)} texts; splitting by near-duplicate groups")
        report = train_request_classifier(
            Tracker(args.tracking_uri),
            frame.reset_index(drop=True),
            seed=args.seed,
            candidates=tuple(args.candidate or CANDIDATES),
            target_fpr=args.target_fpr,
            fp_bound=args.fp_bound,
            margin=args.margin,
            fp_weight=args.fp_weight,
            learn_csic_anomalous=args.csic_anomalous == "learn",
            fp_list_target=args.fp_list_target,
            progress=_progress,
        )
    except (ValidationError, FileNotFoundError, ValueError) as error:
        print(f"train_request_classifier.py: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.card:
        card = Path(args.card)
        card.parent.mkdir(parents=True, exist_ok=True)
        card.write_text(request_model_card(report, command.strip()), encoding="utf-8")
        _progress(f"wrote {card}")
    print(summary(report))
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0
