"""Score a CSV of requests or payloads for injection with the product's request scorer.

    python pipelines/score_requests.py --in IN.csv --out OUT.csv [--tracking-uri URI]
        [--signatures]

IN.csv has either a ``payload`` column or ``method``, ``uri``, ``body`` columns; other columns
are kept as they are. OUT.csv holds the same rows in the same order with ``score`` (P(attack))
and ``is_attack`` (0/1 at the product's default threshold) added. A request is scored value
by value (the highest score of the whole request and of its path and each parameter value):
one injected value is otherwise diluted among the normal ones. The scorer is
``models:/request-classifier@champion`` from the MLflow store, or the signature baseline when
there is no champion (or with ``--signatures``); stderr says which. A missing column or file
is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from selfheal_ml.errors import ValidationError

if TYPE_CHECKING:  # scikit-learn, pandas and MLflow load after argparse: --help is instant
    from selfheal_ml.security.request_classifier import RequestScorer

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # = selfheal_ml.tracking's

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(prog="score_requests.py", description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="source", type=Path, required=True, help="input CSV")
    parser.add_argument("--out", dest="target", type=Path, required=True, help="output CSV")
    parser.add_argument(
        "--tracking-uri",
        default=DEFAULT_TRACKING_URI,
        help="MLflow store whose request-classifier @champion scores",
    )
    parser.add_argument(
        "--signatures", action="store_true", help="score with the signature baseline"
    )
    return parser.parse_args(argv)


def _scorer(args: argparse.Namespace) -> RequestScorer:
    from selfheal_ml.security.request_classifier import RequestScorer
    from selfheal_ml.tracking import Tracker, tracking_store_exists
    from selfheal_ml.training.request_scorer_loading import load_request_scorer

    if args.signatures:
        return RequestScorer.signature_baseline()
    exists = tracking_store_exists(args.tracking_uri)
    return load_request_scorer(Tracker(args.tracking_uri) if exists else None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import pandas as pd

    from selfheal_ml.security.request_frame import texts_from_frame

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        frame = pd.read_csv(args.source, dtype=str, keep_default_na=False)
        texts = texts_from_frame(frame)
    except (ValidationError, FileNotFoundError, pd.errors.ParserError) as error:
        print(f"score_requests.py: error: {args.source}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except pd.errors.EmptyDataError:
        print(f"score_requests.py: error: {args.source}: no header row", file=sys.stderr)
        return EXIT_USAGE
    scorer = _scorer(args)
    by_value = "payload" not in frame.columns
    scores = scorer.score_by_parameter(texts) if by_value else scorer.score(texts)
    result = frame.assign(score=scores, is_attack=(scores >= scorer.threshold).astype(int))
    args.target.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(args.target, index=False)
    flagged = int(result["is_attack"].sum())
    print(
        f"scored {len(result)} rows with {scorer.source} (version {scorer.version or '-'});"
        f" {flagged} flagged; wrote {args.target}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
