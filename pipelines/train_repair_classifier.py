"""Train the repair-strategy classifier: simulate histories, log candidates, register, gate.

    python pipelines/train_repair_classifier.py [--incidents 5000] [--write-card] ...

Creates (or extends) the MLflow experiment "repair-strategy" with one run per candidate and
baseline, registers the best candidate as a new version of model "repair-strategy" and moves
the "champion" alias only if the promotion gate allows; with --write-card it also rewrites
models/repair-strategy.md. Exit code 0 on success. See --help for every option.
"""

from __future__ import annotations

import argparse
import sys

from selfheal_ml.repair_training_options import add_arguments


def main(argv: list[str] | None = None) -> int:
    """Parse the options first (so --help is instant), then import and run the pipeline."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from selfheal_ml.training.pipeline import options_from_args, run_main

    return run_main(options_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
