"""What a chaos run's store says about its incidents and series in a stretch of simulated time.

Usage:

    python pipelines/incident_evidence.py --db COPY.duckdb --start 2026-01-13T17:15 \
        --minutes 15 [--cause slow_query,db_pool_exhaustion] [--series PATTERN]

For each revision of the incidents opened in the window (``incident_revisions``): its time,
root cause, component and confidence, the ranked candidates with their scores, and each range
trigger (the band the Repair agent verifies against) with its value, the band's upper edge and
their ratio: how far past its expected range the diagnosis saw the value. ``--cause`` keeps
the revisions naming one of those causes; ``--whole-run`` reads every incident of the store
instead of the window (with ``--cause``, e.g. every pool exhaustion of a pool run), and ends
with the smallest and largest ratio per trigger metric. ``--series`` (a substring of the
stored series key, e.g. ``http_requests_per_s{endpoint="/api/sites",platform="leadsite.io"``)
also prints that series' stored scores in the window (``anomaly_scores``: value, band edge,
ratio, calibrated score, flagged or not), the values a detector saw whether or not it raised
anything. Read-only; work on a copy of the DuckDB file of a finished run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected an ISO time, got {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected > 0, got {text!r}")
    return value


def trigger_ratio(trigger: dict[str, Any]) -> float | None:
    """The trigger's value over its band's upper edge (``None`` without both, or a zero edge).

    >>> trigger_ratio({"value": 42.8, "high": 40.0}), trigger_ratio({"value": 1.0, "high": 0.0})
    (1.07, None)
    """
    value, high = trigger.get("value"), trigger.get("high")
    if value is None or not high:
        return None
    return round(float(value) / float(high), 2)


def revision_lines(
    rows: list[tuple[Any, ...]], causes: set[str], spans: dict[str, list[float]]
) -> list[str]:
    """One block per revision (module docstring); ``spans`` collects ratios per metric."""
    lines = []
    for incident_id, revision, ts, body in rows:
        diagnosis = json.loads(body)
        if causes and diagnosis.get("root_cause") not in causes:
            continue
        lines.append(
            f"{ts:%Y-%m-%d %H:%M:%S} {incident_id[:8]} rev {revision}:"
            f" {diagnosis.get('root_cause')}@{diagnosis.get('component')}"
            f" confidence {diagnosis.get('confidence', 0.0):.2f}"
        )
        candidates = ", ".join(
            f"{item['cause']}@{item['component']} {item['score']:.3f}"
            for item in diagnosis.get("candidates", [])[:5]
        )
        lines.append(f"  candidates: {candidates or 'none'}")
        for trigger in diagnosis.get("triggers", []):
            if trigger.get("kind") != "range":
                continue
            ratio = trigger_ratio(trigger)
            metric = str(trigger["key"]).split("{", 1)[0]
            if ratio is not None:
                spans.setdefault(metric, []).append(ratio)
            lines.append(
                f"  trigger {trigger['key']}: value {trigger.get('value')}, edge"
                f" {trigger.get('high')}, ratio {ratio if ratio is not None else '-'}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a copy of the run's DuckDB file")
    parser.add_argument("--start", type=_moment, help="simulated UTC, e.g. 2026-01-13T17:15")
    parser.add_argument("--minutes", type=_positive, default=15.0, help="window length (15)")
    parser.add_argument("--cause", default="", help="root causes to keep (comma-separated)")
    parser.add_argument("--series", default="", help="substring of series keys to print")
    parser.add_argument("--whole-run", action="store_true", help="every incident of the store")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        parser.error(f"--db: no such file: {args.db}")
    if args.start is None and not args.whole_run:
        parser.error("--start: required unless --whole-run")
    import duckdb

    causes = {cause for cause in args.cause.split(",") if cause}
    start = args.start or datetime(1970, 1, 1, tzinfo=UTC)
    end = start + timedelta(minutes=args.minutes) if not args.whole_run else datetime.max
    end = end.replace(tzinfo=UTC)
    spans: dict[str, list[float]] = {}
    with duckdb.connect(str(args.db), read_only=True) as connection:
        rows = connection.execute(
            "SELECT r.incident_id, r.revision, r.ts, r.diagnosis FROM incident_revisions r"
            " JOIN incidents i USING (incident_id) WHERE i.opened_at >= ? AND i.opened_at < ?"
            " ORDER BY r.ts, r.revision",
            [start, end],
        ).fetchall()
        print("\n".join(revision_lines(rows, causes, spans)) or "no incident revision")
        if args.whole_run:
            for metric, ratios in sorted(spans.items()):
                print(f"{metric}: {len(ratios)} ratios, {min(ratios)}-{max(ratios)}")
        if args.series and args.start is not None:
            scores = connection.execute(
                "SELECT ts, series, value, expected_high, calibrated, is_anomaly"
                " FROM anomaly_scores WHERE contains(series, ?) AND ts >= ? AND ts < ?"
                " ORDER BY ts, series",
                [args.series, start, start + timedelta(minutes=args.minutes)],
            ).fetchall()
            for ts, series, value, high, calibrated, flagged in scores:
                ratio = trigger_ratio({"value": value, "high": high})
                print(
                    f"{ts:%H:%M:%S} {series}: value {value:.2f}, edge"
                    f" {high if high is None else round(high, 2)}, ratio"
                    f" {ratio if ratio is not None else '-'}, calibrated {calibrated:.1f}"
                    f"{', flagged' if flagged else ''}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
