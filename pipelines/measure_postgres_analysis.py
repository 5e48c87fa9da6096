"""Recall and precision of analyze postgres on planted PostgreSQL workloads, and its cost.

Each seed gets a fresh ``perf_`` database with its own table names, sizes and problems
(seeds divisible by 5: a clean workload), dropped afterwards. ``--extensions`` are created in
each database (``hypopg``; ``pg_stat_statements`` only on a server that preloads it).
Exit code 0 when recall and precision reach ``--target`` and clean workloads are clean, 1 when
not, 2 for bad arguments.

    python pipelines/measure_postgres_analysis.py --dsn postgresql://postgres@127.0.0.1/postgres \\
        --seeds 101-110 --seconds 5 --extensions hypopg --out results/pg_analysis.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

# the measuring code (psycopg, the analyser) loads after argparse: --help is instant

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Errors are one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def seeds(text: str) -> list[int]:
    """``101-105`` or ``1,4,9``."""
    if "-" in text:
        first, last = (int(part) for part in text.split("-", 1))
        return list(range(first, last + 1))
    return [int(part) for part in text.split(",") if part]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a DSN allowed to CREATE DATABASE")
    parser.add_argument(
        "--seeds", type=seeds, default=seeds("101-110"), help="workload seeds, e.g. 101-120"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="watch per workload")
    parser.add_argument("--extensions", default="", help="comma-separated, e.g. hypopg")
    parser.add_argument(
        "--target", type=float, default=0.9, help="recall and precision to pass (0.9)"
    )
    parser.add_argument("--out", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--agent-rounds",
        type=int,
        default=0,
        help="instead: run this many agent rounds per seed and report their queries",
    )
    parser.add_argument("--round-gap", type=float, default=10.0, help="s between agent rounds")
    parser.add_argument(
        "--problem-open",
        action="store_true",
        help="agent rounds as while a latency problem is open on the database (they sample)",
    )
    parser.add_argument(
        "--interval", type=float, default=300.0, help="agent interval for queries/minute"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error(f"--seconds: expected > 0, got {args.seconds}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from selfheal_ml.live.postgres_measure import measure_workload, summarise

    extensions = tuple(name for name in args.extensions.split(",") if name)
    if args.agent_rounds > 0:
        return overhead(args, extensions)
    scores = []
    for seed in args.seeds:
        score = measure_workload(args.dsn, seed, args.seconds, extensions)
        record = score.as_record()
        print(
            json.dumps(
                {
                    key: record[key]
                    for key in (
                        "seed",
                        "kinds",
                        "true_positives",
                        "false_positives",
                        "false_negatives",
                        "statements_source",
                        "hypopg",
                        "watch_queries",
                        "samples",
                        "round_queries",
                    )
                }
            ),
            flush=True,
        )
        scores.append(score)
    summary = summarise(scores)
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {"summary": summary, "workloads": [score.as_record() for score in scores]}
        args.out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    good = (summary["recall"] or 0) >= args.target and (summary["precision"] or 0) >= args.target
    return 0 if good and summary["clean_workloads_with_findings"] == 0 else 1


def overhead(args: argparse.Namespace, extensions: tuple[str, ...]) -> int:
    """The ``--agent-rounds`` mode: queries per agent round and per minute at ``--interval``."""
    from selfheal_ml.live.postgres_measure import measure_agent_overhead

    for seed in args.seeds:
        measured = measure_agent_overhead(
            args.dsn,
            seed,
            args.agent_rounds,
            args.round_gap,
            extensions,
            problem_open=args.problem_open,
        )
        server = measured.server_per_minute(args.interval)
        print(
            json.dumps(
                {
                    "seed": seed,
                    "problem_open": args.problem_open,
                    "queries_per_round": list(measured.queries_per_round),
                    "samples_per_round": list(measured.samples_per_round),
                    "server_calls_per_round": None
                    if measured.server_calls_per_round is None
                    else list(measured.server_calls_per_round),
                    "queries_per_minute_at_interval": round(measured.per_minute(args.interval), 2),
                    "with_samples_per_minute_at_interval": round(
                        measured.per_minute(args.interval, with_samples=True), 2
                    ),
                    "server_calls_per_minute_at_interval": None
                    if server is None
                    else round(server, 2),
                    "interval_s": args.interval,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
