"""Scoring a fault-injection run: the closed loop's figures against the simulator's ground truth.

Inputs are plain records: the injected faults with their fixing actions and root component
(:class:`FaultTruth`), the detection report (:mod:`.detection`), the incidents the Diagnostic
agent opened (:class:`DiagnosedIncident`, first diagnosis), the actions executors ran
(:class:`ExecutedRepair`, with whether the target had any fault) and the escalations.

Definitions (every rate is over **all injected faults**, so a missed fault counts against
every rate):

- an incident *matches* a fault when it was diagnosed while the fault was in effect (from
  injection to resolution plus ``grace_s``) and it involves the fault's root component or one
  of its platforms; an incident matching no fault is a **false alarm**;
- **root cause correct**: the first matching incident's top candidate is
  ``<fault kind>@<root component>``;
- **first repair correct**: the first action executed for a matching incident is one of the
  fault's fixing actions;
- **resolved by the loop**: the fault was ended by one of our executors' actions (not by
  expiry); **auto-resolved** when that action needed no human approval; **time to repair**
  runs from injection to the loop's resolution (the outage a user saw), approvals included
  (``mttr_*``) and over the auto-resolved faults only (``mttr_auto_*``);
  **resolution rate** counts every fault the loop ended (approvals included);
- **auto-resolved, low risk**: the auto-resolved share of the faults whose catalogue fix
  needs no approval (one of its fixing actions is not in ``high_risk_actions``, which the
  caller passes in from the guard's risk tiers): the loop's own record where it is allowed to
  act alone (``None`` when the high-risk set is not given or no such fault was injected);
- **repairs on healthy targets**: executed actions on a platform no active fault affected;
- **loops stopped**: escalations caused by the circuit breaker.

>>> from datetime import UTC, datetime, timedelta
>>> from selfheal_ml.evaluation.detection import Fault, match_detections
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> fault = Fault("f1", "service_crash", "a", ("a",), t0, t0 + timedelta(seconds=90),
...               "restart_service")
>>> truth = FaultTruth(fault, ("restart_service",), "a")
>>> incident = DiagnosedIncident("i1", t0 + timedelta(seconds=60), ("a",), ("a",),
...                              "service_crash@a")
>>> repair = ExecutedRepair(t0 + timedelta(seconds=90), "i1", "restart_service", "a", True,
...                         fixed=True)
>>> report = score_chaos([truth], match_detections([fault], []), [incident], [repair], [],
...                      days=1.0, platform_count=5)
>>> report.root_cause_accuracy, report.first_repair_accuracy, report.mttr_median_s
(1.0, 1.0, 90.0)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.evaluation.detection import DetectionReport, Fault, percentile


@dataclass(frozen=True)
class FaultTruth:
    """One injected fault, the actions that fix it and where its cause lives."""

    fault: Fault
    fixing_actions: tuple[str, ...]
    root_component: str


@dataclass(frozen=True)
class DiagnosedIncident:
    """An incident at its first diagnosis: when, who, and the top root-cause candidate."""

    incident_id: str
    ts: datetime
    platforms: tuple[str, ...]
    components: tuple[str, ...]
    top_cause: str | None


@dataclass(frozen=True)
class ExecutedRepair:
    """An action an executor ran, and whether its platform had any fault at that moment."""

    ts: datetime
    incident_id: str | None
    action: str
    platform: str
    target_had_fault: bool
    fixed: bool = False
    approved_by_human: bool = False


@dataclass(frozen=True)
class Escalation:
    """A hand-over to a person."""

    ts: datetime
    incident_id: str
    reason: str


@dataclass(frozen=True)
class ChaosReport:
    """The benchmark's headline figures (rates 0-1, times in simulated seconds)."""

    faults_injected: int
    faults_detected: int
    detection_rate: float | None
    mttd_median_s: float | None
    mttd_p95_s: float | None
    incidents: int
    root_cause_accuracy: float | None
    first_repair_accuracy: float | None
    auto_resolution_rate: float | None
    auto_resolution_rate_low_risk: float | None
    resolution_rate: float | None
    approvals: int
    mttr_median_s: float | None
    mttr_p95_s: float | None
    mttr_auto_median_s: float | None
    mttr_auto_p95_s: float | None
    false_alarms: int
    false_alarms_per_platform_day: float
    repairs_executed: int
    repairs_on_healthy: int
    loops_stopped: int
    escalations: int
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _window_end(fault: Fault, run_end: datetime | None, grace: timedelta) -> datetime:
    end = fault.resolved_at or run_end
    if end is None:
        return datetime.max.replace(tzinfo=fault.injected_at.tzinfo)
    return end + grace


def _involves(truth: FaultTruth, incident: DiagnosedIncident) -> bool:
    involved = set(incident.platforms) | set(incident.components)
    return truth.root_component in involved or bool(involved & set(truth.fault.platforms))


def match_incidents(
    truths: Sequence[FaultTruth],
    incidents: Sequence[DiagnosedIncident],
    grace_s: float = 600.0,
    run_end: datetime | None = None,
) -> dict[str, list[DiagnosedIncident]]:
    """Fault id -> its matching incidents (earliest first); an incident matches at most the
    most recently injected fault it fits."""
    grace = timedelta(seconds=grace_s)
    matched: dict[str, list[DiagnosedIncident]] = {t.fault.fault_id: [] for t in truths}
    for incident in sorted(incidents, key=lambda item: item.ts):
        fitting = [
            truth
            for truth in truths
            if truth.fault.injected_at <= incident.ts <= _window_end(truth.fault, run_end, grace)
            and _involves(truth, incident)
        ]
        if fitting:
            chosen = max(fitting, key=lambda truth: truth.fault.injected_at)
            matched[chosen.fault.fault_id].append(incident)
    return matched


def _fixer(truth: FaultTruth, repairs: Sequence[ExecutedRepair]) -> ExecutedRepair | None:
    """The executed action that ended the fault, if one of ours did."""
    fault = truth.fault
    if fault.resolved_at is None or fault.resolved_by not in truth.fixing_actions:
        return None
    for repair in repairs:
        if (
            repair.fixed
            and repair.ts == fault.resolved_at
            and repair.action == fault.resolved_by
            and repair.platform in fault.platforms
        ):
            return repair
    return None


def low_risk_auto_rate(
    truths: Sequence[FaultTruth],
    repairs: Sequence[ExecutedRepair],
    high_risk_actions: Collection[str] | None,
) -> float | None:
    """The share of the faults with a fix that needs no approval that the loop ended without
    a human; ``None`` without a high-risk set or without such faults.

    >>> from datetime import UTC, datetime
    >>> from selfheal_ml.evaluation.detection import Fault
    >>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
    >>> lost = Fault("f1", "db_unreachable", None, ("a",), t0, None, None)
    >>> low_risk_auto_rate([FaultTruth(lost, ("restore_from_backup",), "postgres")], [],
    ...                    {"restore_from_backup"}) is None
    True
    """
    if high_risk_actions is None:
        return None
    low_risk = [t for t in truths if set(t.fixing_actions) - set(high_risk_actions)]
    if not low_risk:
        return None
    auto = sum(
        1
        for truth in low_risk
        if (fixer := _fixer(truth, repairs)) is not None and not fixer.approved_by_human
    )
    return auto / len(low_risk)


def score_chaos(
    truths: Sequence[FaultTruth],
    detection: DetectionReport,
    incidents: Sequence[DiagnosedIncident],
    repairs: Sequence[ExecutedRepair],
    escalations: Sequence[Escalation],
    *,
    days: float,
    platform_count: int,
    run_end: datetime | None = None,
    grace_s: float = 600.0,
    high_risk_actions: Collection[str] | None = None,
) -> ChaosReport:
    """All the figures of one run (see the module docstring for the definitions)."""
    matched = match_incidents(truths, incidents, grace_s, run_end)
    matched_ids = {incident.incident_id for found in matched.values() for incident in found}
    first_repair: dict[str, ExecutedRepair] = {}
    for repair in sorted(repairs, key=lambda item: item.ts):
        if repair.incident_id is not None:
            first_repair.setdefault(repair.incident_id, repair)
    verdicts = [
        _verdict(truth, matched[truth.fault.fault_id], first_repair, repairs) for truth in truths
    ]
    root_correct = sum(v.root_cause_right for v in verdicts)
    first_correct = sum(v.first_repair_right for v in verdicts)
    resolved = sum(v.repair_s is not None for v in verdicts)
    auto_resolved = sum(v.auto for v in verdicts)
    repair_times = [v.repair_s for v in verdicts if v.repair_s is not None]
    auto_times = [v.repair_s for v in verdicts if v.repair_s is not None and v.auto]
    total = len(truths)
    false_alarms = sum(1 for incident in incidents if incident.incident_id not in matched_ids)
    outcomes = detection.outcomes

    def rate(count: int) -> float | None:
        return count / total if total else None

    return ChaosReport(
        faults_injected=total,
        faults_detected=sum(o.detected_at is not None for o in outcomes),
        detection_rate=detection.detection_rate,
        mttd_median_s=detection.time_to_detect_quantile(0.5),
        mttd_p95_s=detection.time_to_detect_quantile(0.95),
        incidents=len(incidents),
        root_cause_accuracy=rate(root_correct),
        first_repair_accuracy=rate(first_correct),
        auto_resolution_rate=rate(auto_resolved),
        auto_resolution_rate_low_risk=low_risk_auto_rate(truths, repairs, high_risk_actions),
        resolution_rate=rate(resolved),
        approvals=sum(1 for repair in repairs if repair.approved_by_human),
        mttr_median_s=percentile(repair_times, 0.5),
        mttr_p95_s=percentile(repair_times, 0.95),
        mttr_auto_median_s=percentile(auto_times, 0.5),
        mttr_auto_p95_s=percentile(auto_times, 0.95),
        false_alarms=false_alarms,
        false_alarms_per_platform_day=round(false_alarms / max(platform_count * days, 1e-9), 4),
        repairs_executed=len(repairs),
        repairs_on_healthy=sum(1 for repair in repairs if not repair.target_had_fault),
        loops_stopped=sum(1 for item in escalations if "circuit breaker" in item.reason),
        escalations=len(escalations),
        by_kind=by_kind(truths, verdicts, detection),
    )


@dataclass(frozen=True)
class FaultVerdict:
    """What the loop did about one fault: root cause right, first repair right, and the
    simulated seconds from injection to a repair of ours that ended it (``auto``: nobody
    approved it)."""

    root_cause_right: bool
    first_repair_right: bool
    repair_s: float | None
    auto: bool


def _verdict(
    truth: FaultTruth,
    found: Sequence[DiagnosedIncident],
    first_repair: dict[str, ExecutedRepair],
    repairs: Sequence[ExecutedRepair],
) -> FaultVerdict:
    fault = truth.fault
    expected = f"{fault.kind}@{truth.root_component}"
    firsts = [first_repair[i.incident_id] for i in found if i.incident_id in first_repair]
    first_right = bool(firsts) and min(firsts, key=lambda r: r.ts).action in truth.fixing_actions
    fixer = _fixer(truth, repairs)
    repair_s = None
    if fixer is not None and fault.resolved_at is not None:
        repair_s = (fault.resolved_at - fault.injected_at).total_seconds()
    return FaultVerdict(
        root_cause_right=bool(found) and found[0].top_cause == expected,
        first_repair_right=first_right,
        repair_s=repair_s,
        auto=fixer is not None and repair_s is not None and not fixer.approved_by_human,
    )


def by_kind(
    truths: Sequence[FaultTruth], verdicts: Sequence[FaultVerdict], detection: DetectionReport
) -> dict[str, dict[str, float]]:
    """Per fault kind: how many, and the share detected, with the right root cause, the
    right first repair, resolved by the loop, and resolved without a human."""
    detected = {o.fault_id: o.detected_at is not None for o in detection.outcomes}
    table: dict[str, dict[str, float]] = {}
    for truth, verdict in zip(truths, verdicts, strict=True):
        row = table.setdefault(str(truth.fault.kind), dict.fromkeys(_KIND_COLUMNS, 0.0))
        row["faults"] += 1
        row["detected"] += detected.get(truth.fault.fault_id, False)
        row["root_cause"] += verdict.root_cause_right
        row["first_repair"] += verdict.first_repair_right
        row["resolved"] += verdict.repair_s is not None
        row["auto"] += verdict.auto
    for row in table.values():
        for column in _KIND_COLUMNS[1:]:
            row[column] = round(row[column] / row["faults"], 3)
    return dict(sorted(table.items()))


_KIND_COLUMNS = ("faults", "detected", "root_cause", "first_repair", "resolved", "auto")


def seconds_after_injection(fault_row: dict[str, Any], key: str) -> float | None:
    """A time of one of a report's ``faults`` rows (``detected_at``, ``resolved_at``) as
    seconds after its ``injected_at``; ``None`` when the row has none.

    >>> seconds_after_injection({"injected_at": "2026-01-05T00:00:00+00:00",
    ...     "detected_at": "2026-01-05T00:00:21+00:00"}, "detected_at")
    21.0
    """
    if not fault_row.get(key):
        return None
    ended = datetime.fromisoformat(fault_row[key])
    return (ended - datetime.fromisoformat(fault_row["injected_at"])).total_seconds()
