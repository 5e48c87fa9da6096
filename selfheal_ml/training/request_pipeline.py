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

from selfheal_ml.errors import ValidationError
from selfheal_ml.request_training_options import EXIT_USAGE, parse_args
from selfheal_ml.security.request_classifier import CANDIDATES
from selfheal_ml.tracking import Tracker
from selfheal_ml.training.request_card import request_model_card
from selfheal_ml.training.request_data import load_security_texts
from selfheal_ml.training.request_training import (
    RequestTrainingReport,
    train_request_classifier,
)


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
    for name in ("profile", "classifier", "combined") if report.profile else ():
        figures = report.profile["profile_test_"]
        rates = "/".join(f"{figures.get(f'{name}_csic_tpr_at_fpr_{b}', float('nan')):.3f}"
                         for b in ("0", "0.1pct", "1pct"))  # fmt: skip
        lines.append(f"held-out csic {name:10s} TPR@0/0.1/1% FPR {rates}")
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
    return run(parse_args(argv), argv)


def run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Train with parsed ``args`` (``argv`` as given, for the model card's command line)."""
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
