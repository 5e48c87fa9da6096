"""What a chaos run's report does not say at a glance: where its unmatched signs fall, and
whether its "repairs on healthy targets" came right after a fault ended by itself.

Usage:

    python pipelines/explain_chaos_run.py --report F.json [--db F.duckdb] \
        [--before 60] [--after 300] [--without KINDS] [--only KINDS]

1. **Signs of trouble that matched no fault** (the report's ``alerts_matching_no_fault_detail``)
   by class: anomalies on the low-count series (``business_events_per_min``,
   ``auth_attempts_per_s``); signs from ``--before`` seconds before a fault's injection to
   ``--after`` seconds after its end, named by the fault's kind (a dependency-labelled sign of
   a fault on one platform, a consequence after the repair); the rest by metric (or alert name).
2. With ``--db`` (the run's DuckDB file, once the run has ended): how many of the unmatched
   ``AnomalyDetected`` signs were *lone*, with no other flagged point on their series within
   ``--lone`` seconds either side (the run's ``anomaly_events``), by metric; and each
   executed repair (the run's ``repair_executions``) on a
   platform no fault affected at that moment (a platform no fault ever named included), with
   the incident's root cause and how long before it the platform's last fault ended (a
   simulated fault expires by itself; a restart landing just after is late, not wrong).
   An action on a shared dependency (``postgres``, ``redis``) is judged by the platform it was
   addressed to, as the simulator judges it; a shared fault affects every platform.
   Also each incident with several executed repairs whose diagnosis named another component
   after the first one (``incident_revisions``), and where its later repairs went (a case
   aims its later steps at the revision's component: ``RepairCase.revise``).
3. With ``--without KINDS`` (comma-separated fault kinds): the times to detect and to repair
   (median / p95, from each fault's row in the report: injection to first matching sign, and
   to the repair that ended it) over the other faults, to show which kinds fill a tail;
   with ``--only KINDS``, the same over those kinds alone, with their slowest detection and
   the sign that noticed each first.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

LOW_COUNT_METRICS = frozenset({"business_events_per_min", "auth_attempts_per_s"})

Window = tuple[str, str | None, datetime, datetime]  # kind, platform, injected, ended


def fault_windows(report: dict[str, Any]) -> list[Window]:
    """Each fault's kind, platform, injection and end (the run's end if it never ended)."""
    return [
        (
            fault["kind"],
            fault["platform"],
            datetime.fromisoformat(fault["injected_at"]),
            datetime.fromisoformat(fault["resolved_at"] or "9999-01-01T00:00:00+00:00"),
        )
        for fault in report["faults"]
    ]


def sign_class(sign: dict[str, Any], windows: list[Window], before_s: float, after_s: float) -> str:
    """The class of one unmatched sign (module docstring)."""
    metric = sign["labels"].get("metric", sign["alertname"])
    if metric in LOW_COUNT_METRICS:
        return "low-count series"
    ts = datetime.fromisoformat(sign["ts"])
    for kind, _, injected, ended in windows:
        if injected - timedelta(seconds=before_s) <= ts <= ended + timedelta(seconds=after_s):
            return f"around a fault: {kind}"
    return f"no fault near: {metric}"


def lone_anomalies(db: Path, signs: list[dict[str, Any]], within_s: float) -> Counter[str]:
    """Per metric, the unmatched anomaly signs with no other flagged point of their series
    within ``within_s`` seconds either side."""
    import duckdb

    lone: Counter[str] = Counter()
    with duckdb.connect(str(db), read_only=True) as connection:
        for sign in signs:
            if sign["alertname"] != "AnomalyDetected":
                continue
            labels = dict(sign["labels"])
            metric = labels.pop("metric")
            ts = datetime.fromisoformat(sign["ts"])
            rows = connection.execute(
                "SELECT series FROM anomaly_events WHERE series LIKE ? AND ts BETWEEN ? AND ?",
                [
                    f"{metric}{{%",
                    ts - timedelta(seconds=within_s),
                    ts + timedelta(seconds=within_s),
                ],
            ).fetchall()
            wanted = [f'{key}="{value}"' for key, value in labels.items()]
            same = [row for row in rows if all(label in row[0] for label in wanted)]
            if len(same) <= 1:
                lone[metric] += 1
    return lone


def healthy_repairs(db: Path, windows: list[Window]) -> list[str]:
    """One line per executed repair whose platform no fault affected at that moment (module
    docstring): the run's ``repair_executions``, judged by the platform each action was
    addressed to, as the simulator judges it (an action on a shared dependency names one)."""
    import duckdb

    lines = []
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.execute(
            "SELECT e.started_at, e.request->>'action', e.target, e.platform, e.outcome,"
            " i.root_cause FROM repair_executions e LEFT JOIN incidents i"
            " ON i.incident_id = e.request->>'incident_id' ORDER BY e.started_at"
        ).fetchall()
    for ts, action, target, platform, outcome, root_cause in rows:
        on_platform = [window for window in windows if window[1] in (platform, None)]
        if any(injected <= ts <= ended for _, _, injected, ended in on_platform):
            continue
        ended = [end for _, _, _, end in on_platform if end < ts]
        since = f"{(ts - max(ended)).total_seconds():.0f} s" if ended else "never"
        where = target if target == platform else f"{target} (for {platform})"
        lines.append(
            f"{ts:%Y-%m-%d %H:%M:%S} {action} on {where} ({outcome}); incident: {root_cause};"
            f" the platform's last fault ended: {since}"
        )
    return lines


def moved_causes(db: Path) -> tuple[int, list[str]]:
    """How many incidents had several executed repairs, and one line for each of them whose
    diagnosis named another component after its first repair."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as connection:
        repairs = connection.execute(
            "SELECT incident_id, ts, action, target FROM repair_audit"
            " WHERE decision = 'executed' ORDER BY incident_id, ts"
        ).fetchall()
        revisions = connection.execute(
            "SELECT incident_id, ts, diagnosis->>'component' FROM incident_revisions ORDER BY ts"
        ).fetchall()
    by_incident: dict[str, list[tuple[datetime, str, str]]] = {}
    for incident_id, ts, action, target in repairs:
        by_incident.setdefault(incident_id, []).append((ts, action, target))
    several = {key: steps for key, steps in by_incident.items() if len(steps) > 1}
    lines = []
    for incident_id, steps in several.items():
        (first_ts, first_action, first_target), last_ts = steps[0], steps[-1][0]
        moved = [component for key, ts, component in revisions
                 if key == incident_id and first_ts < ts <= last_ts
                 and component not in (None, first_target)]  # fmt: skip
        if moved:
            later = ", ".join(f"{action} on {target}" for _, action, target in steps[1:])
            lines.append(
                f"{first_ts:%Y-%m-%d %H:%M:%S} {first_action} on {first_target}, then the"
                f" diagnosis named {moved[0]}; later: {later}"
            )
    return len(several), lines


def times_without(report: dict[str, Any], kinds: set[str]) -> str:
    """Time to detect and to repair, median / p95, over the faults not of ``kinds``."""
    others = [fault for fault in report["faults"] if fault["kind"] not in kinds]
    return f"without {', '.join(sorted(kinds))}: {_times(others)}"


def times_of(report: dict[str, Any], kinds: set[str]) -> str:
    """Time to detect and to repair, median / p95, over the faults of ``kinds`` only; then the
    slowest detection and which sign noticed each fault first (``detected_by``)."""
    chosen = [fault for fault in report["faults"] if fault["kind"] in kinds]
    detect = _detection_times(chosen)
    first = Counter(str(fault.get("detected_by")) for fault in chosen if fault.get("detected_at"))
    by = ", ".join(f"{name} {count}" for name, count in first.most_common())
    slowest = f"; slowest detection {max(detect):,.0f} s; first sign: {by}" if detect else ""
    return f"only {', '.join(sorted(kinds))}: {_times(chosen)}{slowest}"


def _detection_times(faults: list[dict[str, Any]]) -> list[float]:
    """Seconds from each detected fault's injection to its first matching sign."""
    from selfheal_ml.evaluation.chaos import seconds_after_injection

    return [
        t for fault in faults if (t := seconds_after_injection(fault, "detected_at")) is not None
    ]


def _times(faults: list[dict[str, Any]]) -> str:
    from selfheal_ml.evaluation.chaos import seconds_after_injection
    from selfheal_ml.evaluation.detection import percentile

    detect = _detection_times(faults)
    ended = [fault for fault in faults if fault["resolved_by"] not in (None, "expired")]
    repair = [
        t for fault in ended if (t := seconds_after_injection(fault, "resolved_at")) is not None
    ]

    def pair(values: list[float]) -> str:
        median, p95 = percentile(values, 0.5), percentile(values, 0.95)
        return "-" if median is None or p95 is None else f"{median:,.0f} / {p95:,.0f} s"

    return (
        f"{len(faults)} faults; time to detect median / p95 {pair(detect)} ({len(detect)}"
        f" detected); time to repair {pair(repair)} ({len(repair)} ended by a repair)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True, help="the run's JSON report")
    parser.add_argument("--db", type=Path, help="the run's DuckDB file (for healthy repairs)")
    parser.add_argument("--before", type=float, default=60.0, help="s before a fault (60)")
    parser.add_argument("--after", type=float, default=300.0, help="s after a fault ends (300)")
    parser.add_argument(
        "--lone", type=float, default=300.0, help="s either side for a lone anomaly (300)"
    )
    parser.add_argument("--without", help="fault kinds left out of the times (comma-separated)")
    parser.add_argument("--only", help="fault kinds whose times alone to give (comma-separated)")
    args = parser.parse_args()
    report = json.loads(args.report.read_text())
    windows = fault_windows(report)
    signs = report.get("alerts_matching_no_fault_detail") or []
    classes = Counter(sign_class(sign, windows, args.before, args.after) for sign in signs)
    days, platforms = float(report["days"]), 5
    print(f"signs matching no fault: {len(signs)} ({len(signs) / (days * platforms):.2f} per"
          " platform-day)")  # fmt: skip
    for name, count in classes.most_common():
        print(f"  {count:4d}  {name}")
    if args.db is not None:
        lone = lone_anomalies(args.db, signs, args.lone)
        anomalies = sum(sign["alertname"] == "AnomalyDetected" for sign in signs)
        print(f"lone anomalies (no other flagged point within {args.lone:.0f} s):"
              f" {sum(lone.values())} of {anomalies}")  # fmt: skip
        for name, count in lone.most_common():
            print(f"  {count:4d}  {name}")
        lines = healthy_repairs(args.db, windows)
        print(f"repairs on healthy targets: {len(lines)}")
        for line in lines:
            print(f"  {line}")
        several, moved = moved_causes(args.db)
        print(f"incidents whose cause moved to another component after a repair: {len(moved)}"
              f" of {several} with several repairs")  # fmt: skip
        for line in moved:
            print(f"  {line}")
    if args.without:
        print(times_without(report, set(args.without.split(","))))
    if args.only:
        print(times_of(report, set(args.only.split(","))))


if __name__ == "__main__":
    main()
