"""Score a CSV of requests or payloads for injection with the product's request scorer.

    python pipelines/score_requests.py --in IN.csv --out OUT.csv [--tracking-uri URI]
        [--signatures] [--profile auto|on|off]

IN.csv has either a ``payload`` column or ``method``, ``uri``, ``body`` columns; other columns
are kept as they are. OUT.csv holds the same rows in the same order with ``score`` and
``is_attack`` (0/1 at the product's default threshold) added. ``score`` is in ``[0, 1)``,
higher is more suspicious, and the default threshold sits at 0.5: it is the row's score in
units ``u`` of the default threshold mapped by ``u / (1 + u)``.

A payload is scored by the injection classifier (``u`` = P(attack) over its threshold). A
request is scored value by value (the highest score of the whole request and of its path and
each parameter value: one injected value is otherwise diluted among the normal ones) and,
when the champion carries the application request profile of the application it was trained
on and the file's requests are of that application (``--profile auto``: at least half of them
ask for paths the profile knows; ``on``: always; ``off``: never), also against that
application's normal requests: ``u`` is the higher of the classifier's and the profile's
(each over its own threshold), so a tampered value, a renamed parameter or a probe for a
backup file counts, not only an injection. The scorer is
``models:/request-classifier@champion`` from the MLflow store, or the signature baseline when
there is no champion (or with ``--signatures``); stderr says which, and whether the profile
scored. A missing column or file is one line on stderr and exit code 2.
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
    parser.add_argument(
        "--profile",
        choices=("auto", "on", "off"),
        default="auto",
        help="score requests against the champion's application profile too: auto (when the "
        "file's requests are of its application), on, off",
    )
    return parser.parse_args(argv)


def _scorer(args: argparse.Namespace) -> RequestScorer:
    from selfheal_ml.security.request_classifier import RequestScorer
    from selfheal_ml.tracking import Tracker, tracking_store_exists
    from selfheal_ml.training.request_scorer_loading import load_request_scorer

    if args.signatures:
        return RequestScorer.signature_baseline()
    exists = tracking_store_exists(args.tracking_uri)
    tracker = Tracker(args.tracking_uri) if exists else None
    return load_request_scorer(tracker, with_application_profile=args.profile != "off")


def _with_profile(args: argparse.Namespace, scorer: RequestScorer, texts: list[str]) -> bool:
    """Whether requests are scored against the application profile too (module docstring);
    stderr says why not when one was carried."""
    from selfheal_ml.security.application_profile import IN_SCOPE_SHARE

    if scorer.application is None or args.profile == "off":
        return False
    if args.profile == "on":
        return True
    share = scorer.application.known_path_share(texts)
    if share < IN_SCOPE_SHARE:
        print(
            f"score_requests.py: {100 * share:.0f} % of the requests ask for paths the"
            f" application profile ({scorer.application.application}) knows: scored by the"
            " classifier alone (--profile on to use it anyway)",
            file=sys.stderr,
        )
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import pandas as pd

    from selfheal_ml.security.request_classifier import attack_score
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
    with_profile = False
    if "payload" in frame.columns:
        units = scorer.payload_units(texts)
    else:
        with_profile = _with_profile(args, scorer, texts)
        units = scorer.request_units(texts, with_profile)
    result = frame.assign(score=attack_score(units), is_attack=(units >= 1.0).astype(int))
    args.target.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(args.target, index=False)
    flagged = int(result["is_attack"].sum())
    print(
        f"scored {len(result)} rows with {scorer.source} (version {scorer.version or '-'})"
        f"{' and its application profile' if with_profile else ''};"
        f" {flagged} flagged; wrote {args.target}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
