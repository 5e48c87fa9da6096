"""Replay the Predictive agent's capacity check over a finished chaos run's stored minutes.

Usage:

    python pipelines/replay_capacity_check.py --db RUN.duckdb --start 2026-01-13T11:00 \
        --minutes 420 --every 5 --match tackle.io [--without-reset]

It builds the same ``ForecastRound`` the agent runs (default thresholds) on the run's store
and calls ``check_capacity`` from ``--start`` every ``--every`` minutes for ``--minutes``.
It prints each memory or disk prediction whose series contains ``--match``.
``--without-reset`` fits the trend across resets, as before 48cbace, to compare. Work on a copy
of the DuckDB file: the check records its predictions in the store.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

import selfheal_ml.agents.forecasting as forecasting
from selfheal_ml.clock import SimClock
from selfheal_ml.config import Thresholds
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.forecasts import ForecastStore
from selfheal_ml.storage.metrics import MetricsStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a copy of the run's DuckDB file")
    parser.add_argument("--start", required=True, help="UTC, e.g. 2026-01-13T11:00")
    parser.add_argument(
        "--minutes", type=int, default=420, help="how many minutes to replay from --start"
    )
    parser.add_argument(
        "--every", type=int, default=5, help="run the capacity check every this many minutes"
    )
    parser.add_argument("--match", default="", help="part of the series key to report")
    parser.add_argument(
        "--without-reset",
        action="store_true",
        help="the old check: fit the trend over the whole window, ignoring resets",
    )
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.every <= 0:
        parser.error("--minutes and --every: expected positive whole minutes")
    try:
        start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    except ValueError:
        parser.error(f"--start: expected an ISO time, got {args.start!r}")
    if args.without_reset:
        forecasting.since_last_reset = lambda values: values  # type: ignore[assignment]
    database = Database(args.db)
    check = forecasting.ForecastRound(
        metrics=MetricsStore(database, SimClock(start)),
        store=ForecastStore(database),
        thresholds=Thresholds(),
    )
    found = 0
    for minute in range(0, args.minutes, args.every):
        now = start + timedelta(minutes=minute)
        for event in check.check_capacity(now):
            if args.match in event.series:
                found += 1
                print(f"{now:%m-%d %H:%M} {event.series} now {event.value:.1f}"
                      f" limit {event.limit:g} by {event.eta:%m-%d %H:%M}")  # fmt: skip
    print(f"{found} prediction(s) matching {args.match!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
