"""How a run's repair verdicts change when trigger bands cover the series' healthy range.

Usage:

    python pipelines/replay_verification.py --report F.json --db COPY.duckdb \
        [--coverage 0.9] [--days 7] [--recorded-bands]

Takes every executed repair of a finished chaos run (``repair_audit``) with its verdict. For
each it reads the triggers of the incident's diagnosis at that moment
(``incident_revisions``) and the collections from the action to the verdict
(``metric_points``). An alert trigger counts as firing while the run's ``alerts`` table has
it firing. It then replays the Repair agent's rule (``repair/case.py``
``triggers_recovered``, on ``recovery_checks`` consecutive collections) twice. The first
replay uses the bands as the diagnosis had them at detection. The second widens them to the
series' healthy range at that time of day (``diagnosis/healthy_range.py``, with
``--coverage`` and ``--days``).

A run made on code that already widens records the widened bands. ``--recorded-bands``
replays the recorded bands as they are. Without it the "as detected" replay is only right for
runs from before the widening.

Both replays are checked against the report's truth: did a fault end by this action within
90 s of it? The script prints the verdicts by truth and lists each verdict the widening
changes. A "did not work" on a repair that did end its fault leads to a second step, often
on a platform that is healthy by then. A "worked" on one that did not leaves the fault
running until it shows again. Read the store from a copy: DuckDB allows one writer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from selfheal_ml.diagnosis.healthy_range import (
    COVERAGE,
    HEALTHY_DAYS,
    healthy_range,
    history_span,
    widen_to_healthy,
)
from selfheal_ml.diagnosis.observations import alert_key
from selfheal_ml.lifecycle import Trigger
from selfheal_ml.repair.case import triggers_recovered

RECOVERY_CHECKS = 2  # agents/repair.py DEFAULTS
FIXED_WITHIN_S = 90.0


@dataclass(frozen=True)
class Attempt:
    """One judged repair of the run."""

    ts: datetime
    action: str
    target: str
    outcome: str
    finished_at: datetime
    incident_id: str


def attempts(db: duckdb.DuckDBPyConnection) -> list[Attempt]:
    """The run's executed and judged repairs, oldest first."""
    rows = db.execute(
        "SELECT ts, action, target, outcome, finished_at, incident_id FROM repair_audit"
        " WHERE decision = 'executed' AND outcome IN ('worked', 'did_not_work')"
        " AND incident_id IS NOT NULL ORDER BY ts"
    ).fetchall()
    return [Attempt(*row) for row in rows]


def diagnosis_at(db: duckdb.DuckDBPyConnection, attempt: Attempt) -> tuple[datetime, list[Trigger]]:
    """When the incident's diagnosis in force at the attempt was made, and its triggers."""
    row = db.execute(
        "SELECT ts, diagnosis FROM incident_revisions WHERE incident_id = ? AND ts <= ?"
        " ORDER BY revision DESC LIMIT 1",
        [attempt.incident_id, attempt.ts],
    ).fetchone()
    if row is None:
        return attempt.ts, []
    triggers = json.loads(row[1]).get("triggers") or []
    return row[0], [Trigger.model_validate(trigger) for trigger in triggers]


def series_points(
    db: duckdb.DuckDBPyConnection, series: str, start: datetime, end: datetime
) -> pd.Series:
    """The raw points of one series in ``[start, end]``."""
    frame = db.execute(
        "SELECT ts, value FROM metric_points WHERE series = ? AND ts BETWEEN ? AND ? ORDER BY ts",
        [series, start, end],
    ).df()
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["ts"]))


def firing_spans(db: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each alert key's firing spans (the Repair agent's ``alert_key``)."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for labels_text, status, starts, ends in db.execute(
        "SELECT labels, status, starts_at, ends_at FROM alerts"
    ).fetchall():
        labels = json.loads(labels_text)
        name = labels.pop("alertname", "")
        labels.pop("severity", None)
        end = datetime.max.replace(tzinfo=starts.tzinfo) if status == "firing" else ends
        spans.setdefault(alert_key(name, labels), []).append((starts, end))
    return spans


def replay(
    db: duckdb.DuckDBPyConnection,
    attempt: Attempt,
    triggers: list[Trigger],
    spans: dict[str, list[tuple[datetime, datetime]]],
) -> str:
    """The verdict of ``triggers`` on the collections from the action to the recorded
    verdict: "worked" after ``RECOVERY_CHECKS`` healthy collections in a row."""
    points = {
        trigger.key: series_points(db, trigger.key, attempt.ts, attempt.finished_at)
        for trigger in triggers
        if trigger.kind == "range"
    }
    collections = [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT ts FROM metric_points WHERE ts > ? AND ts <= ? ORDER BY ts",
            [attempt.ts, attempt.finished_at],
        ).fetchall()
    ]
    streak = 0
    for at in collections:
        values = {}
        for key, series in points.items():
            seen = series[series.index <= at]
            if not seen.empty:
                values[key] = (seen.index[-1].to_pydatetime(), float(seen.iloc[-1]))
        firing = {
            trigger.key
            for trigger in triggers
            if trigger.kind == "alert"
            and any(start <= at < end for start, end in spans.get(trigger.key, []))
        }
        healthy = triggers_recovered(triggers, values, firing, attempt.ts)
        streak = streak + 1 if healthy else 0
        if streak >= RECOVERY_CHECKS:
            return "worked"
    return "did_not_work"


def widen_all(
    db: duckdb.DuckDBPyConnection,
    triggers: list[Trigger],
    at: datetime,
    days: int,
    coverage: float,
) -> list[Trigger]:
    """``triggers`` widened as the Diagnostic agent widens them at ``at``."""
    start, end = history_span(at, days)
    return [
        widen_to_healthy(
            trigger,
            healthy_range(series_points(db, trigger.key, start, end), at, days, coverage=coverage),
        )
        for trigger in triggers
    ]


def fixed(report: dict[str, Any], attempt: Attempt) -> bool:
    """Whether a fault of the run ended by this action within ``FIXED_WITHIN_S`` of it."""
    for fault in report["faults"]:
        if fault["resolved_by"] != attempt.action or not fault["resolved_at"]:
            continue
        after = (datetime.fromisoformat(fault["resolved_at"]) - attempt.ts).total_seconds()
        if 0.0 <= after <= FIXED_WITHIN_S:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--report", required=True, type=Path, help="the run's JSON report")
    parser.add_argument("--db", required=True, type=Path, help="a copy of the run's DuckDB file")
    parser.add_argument(
        "--coverage", type=float, default=COVERAGE, help="the healthy range's central share"
    )
    parser.add_argument(
        "--days", type=int, default=HEALTHY_DAYS, help="days of history the range is taken from"
    )
    parser.add_argument(
        "--recorded-bands",
        action="store_true",
        help="the run already widened its bands: replay them as recorded",
    )
    args = parser.parse_args(argv)
    if not 0.0 < args.coverage < 1.0 or args.days < 1:
        parser.error("--coverage: expected a share in (0, 1); --days: at least 1")
    for path in (args.report, args.db):
        if not path.is_file():
            parser.error(f"{path}: no such file")
    report = json.loads(args.report.read_text())
    db = duckdb.connect(str(args.db), read_only=True)
    spans = firing_spans(db)
    tally: Counter[tuple[str, str, str, str]] = Counter()
    changed: list[str] = []
    judged = attempts(db)
    for number, attempt in enumerate(judged, 1):
        if number % 25 == 0 or number == len(judged):
            print(f"{number}/{len(judged)} repairs replayed", file=sys.stderr)
        diagnosed_at, triggers = diagnosis_at(db, attempt)
        widened = triggers
        if not args.recorded_bands:
            widened = widen_all(db, triggers, diagnosed_at, args.days, args.coverage)
        truth = "fixed" if fixed(report, attempt) else "not fixed"
        before = replay(db, attempt, triggers, spans)
        after = replay(db, attempt, widened, spans)
        tally[(truth, attempt.outcome, before, after)] += 1
        if before != after:
            changed.append(
                f"  {attempt.ts:%m-%d %H:%M:%S} {attempt.action} on {attempt.target}"
                f" ({truth}): {before} -> {after}"
            )
    print("truth      recorded      replayed      widened       repairs")
    for (truth, recorded, before, after), count in sorted(tally.items()):
        print(f"{truth:<10} {recorded:<13} {before:<13} {after:<13} {count:>7}")
    print(f"verdicts the widening changes: {len(changed)}")
    print("\n".join(changed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
