"""Replay the Predictive agent's leak watch on one platform's memory over a chaos run's store.

Usage:

    python pipelines/leak_watch_on_store.py --db COPY.duckdb --platform leadsite.io \
        --start 2026-01-21T18:00 --minutes 60 [--every 5]

It builds the agent's own :class:`~selfheal_ml.agents.leak_watch.LeakWatch` on the run's store
(default limit and threshold), learns the healthy model of the platform's
``host_memory_percent`` from the 24 h of minute rollups before ``--start`` (as the watch
re-learns it hourly), feeds it the stored raw points of that memory series and of the
platform's request rates minute by minute from an hour before ``--start``, and every
``--every`` minutes prints what the test sees: memory and load (the platform's summed
request rate) now, the healthy value the model expects at that load, the strongest ramp's
z-score, slope per hour and length, and whether the watch predicts a leak then ("no
evidence" where the test gives none: a short window, a traffic jump, or a load beyond
``forecast.ramp.BEYOND_LEARNT`` times the highest it was learnt on). It also prints
the model and the range of load it was learnt on: a load far beyond that range is an
extrapolation of the line. Work on a copy of the DuckDB file (read-only use, but the store
opens it for writing).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from selfheal_ml.agents.leak_watch import LeakWatch
from selfheal_ml.clock import SimClock
from selfheal_ml.config import Thresholds
from selfheal_ml.events import MetricPoint
from selfheal_ml.forecast.ramp import BEYOND_LEARNT
from selfheal_ml.metric_catalogue import HOST_MEMORY_PERCENT, HTTP_REQUESTS_PER_S
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.metrics import MetricsStore, parse_series_key


def platform_series(database: Database, platform: str) -> list[str]:
    """The platform's memory and request-rate series in the store's catalogue."""
    with database.read() as conn:
        rows = conn.execute("SELECT series FROM metric_series ORDER BY series").fetchall()
    wanted = []
    for (series,) in rows:
        name, labels = parse_series_key(series)
        if labels.get("platform") == platform and name in (
            HOST_MEMORY_PERCENT,
            HTTP_REQUESTS_PER_S,
        ):
            wanted.append(series)
    return wanted


def stored_points(
    database: Database, series: list[str], start: datetime, end: datetime
) -> list[MetricPoint]:
    """The raw points of ``series`` in ``[start, end)``, oldest first, with their labels."""
    with database.read() as conn:
        rows = conn.execute(
            "SELECT series, ts, value FROM metric_points WHERE list_contains(?::VARCHAR[], series)"
            " AND ts >= ? AND ts < ? ORDER BY ts",
            [series, start, end],
        ).fetchall()
    return [
        MetricPoint(series=name, ts=ts, value=value, labels=parse_series_key(name)[1])
        for name, ts, value in rows
    ]


def utc_time(text: str) -> datetime:
    """An ISO time without a zone, read as UTC (argparse names the option on a bad one)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO time, got {text!r}") from None


def whole_minutes(text: str) -> int:
    """A positive whole number of minutes."""
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive whole minutes, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a copy of the run's DuckDB file")
    parser.add_argument("--platform", required=True, help="the platform whose memory to judge")
    parser.add_argument("--start", required=True, type=utc_time, help="UTC, e.g. 2026-01-21T18:00")
    parser.add_argument("--minutes", type=whole_minutes, default=60, help="minutes to replay")
    parser.add_argument("--every", type=whole_minutes, default=5, help="print every N minutes")
    args = parser.parse_args(argv)
    start: datetime = args.start
    database = Database(args.db)
    series = platform_series(database, args.platform)
    memory = [name for name in series if name.startswith(f"{HOST_MEMORY_PERCENT}{{")]
    if not memory:
        parser.error(f"--platform: no {HOST_MEMORY_PERCENT} series of {args.platform!r} stored")
    metrics = MetricsStore(database, SimClock(start))
    watch = LeakWatch(metrics, limit=Thresholds().memory_percent)
    feed_from = start - timedelta(seconds=watch.window_s)
    watch.observe(stored_points(database, series, feed_from, feed_from + timedelta(minutes=1)))
    watch.refresh(start)
    target = memory[0]
    baseline = watch.baselines.get(target)
    if baseline is None:
        print(f"{target}: no healthy model (too few minutes before {start:%m-%d %H:%M})")
        return 0
    print(f"{target}: healthy memory = {baseline.level:.2f} + {baseline.share:.4f} x load;"
          f" noise persistence {baseline.persistence:.3f}, innovation sd"
          f" {baseline.innovation_sd:.3f}, stationary sd {baseline.noise_sd:.2f}; learnt on load"
          f" up to {baseline.load_high:.1f} (99th percentile), no evidence past"
          f" {BEYOND_LEARNT * baseline.load_high:.1f}")  # fmt: skip
    minute = timedelta(minutes=1)
    now = feed_from + minute
    end = start + timedelta(minutes=args.minutes)
    while now <= end:
        watch.observe(stored_points(database, series, now, now + minute))
        now += minute
        if now < start or int((now - start).total_seconds() // 60) % args.every:
            continue
        seen = watch.evidence(target, now)
        predicted = [event for event in watch.check(now) if event.series == target]
        if seen is None:
            print(f"{now:%m-%d %H:%M} no evidence (a short window, a traffic jump, or a load"
                  " beyond the learnt range)")  # fmt: skip
            continue
        _, evidence, value, load_now = seen
        expected = baseline.level + baseline.share * load_now
        print(f"{now:%m-%d %H:%M} load {load_now:6.1f}  memory {value:5.1f}  expected"
              f" {expected:5.1f}  z {evidence.z:5.2f}  slope {evidence.slope * 60:5.2f}/h over"
              f" {evidence.steps:2d} min  {'PREDICTS A LEAK' if predicted else ''}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
