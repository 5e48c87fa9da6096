"""Train the request classifier (injection) on the shared security data; log, register, gate.

    python pipelines/train_request_classifier.py [--data-dir ../shared/datasets/security]
        [--tracking-uri sqlite:///mlruns/mlflow.db] [--candidate NAME ...] [--target-fpr 0.001]

Creates (or extends) the MLflow experiment "request-classifier" with one run per candidate
and one for the chosen model (with the signature baseline's figures), registers it as a new
version of "request-classifier", moves @champion only if the promotion gate allows, and
writes models/request-classifier.md. Exit code 0 on success, 2 on bad arguments or
missing data. See --help for every option.
"""

from __future__ import annotations

import sys

from selfheal_ml.request_training_options import parse_args


def main(argv: list[str] | None = None) -> int:
    """Parse the options first (so --help is instant), then import and run the pipeline."""
    args = parse_args(argv)
    from selfheal_ml.training.request_pipeline import run

    return run(args, argv)


if __name__ == "__main__":
    sys.exit(main())
