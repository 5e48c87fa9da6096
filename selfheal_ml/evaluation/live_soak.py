"""A live run's HTTP answers as the chaos benchmark's inputs, scored by :func:`score_chaos`.

A live soak (``pipelines/live_soak.py``) reads the simulator's ground truth (``GET
/sim/faults``) and what the service did (``GET /v1/incidents``, ``GET /v1/alerts``, ``GET
/admin/repairs``) as JSON. This module turns those payloads into :class:`FaultTruth`,
:class:`~selfheal_ml.evaluation.detection.Observation`, :class:`DiagnosedIncident`,
:class:`ExecutedRepair` and :class:`Escalation` and scores them with the benchmark's own
functions, so a live run and a virtual-time run report the same keys by the same rules.

Two things differ from virtual time. The simulator and the service keep their own clocks: an
executed action *ended* a fault when the simulator says that fault was resolved by the same
action within ``tolerance_s`` of the audit row; the repair then takes the simulator's
resolution time, which is what :func:`score_chaos` matches on. And the audit log names a
target (``postgres`` for a database action), not a platform: the platform is the ended
fault's, else the target when it is a platform, else the incident's first.

>>> truths = fault_truths([{"fault_id": "f1", "kind": "service_crash", "platform": "a",
...     "platforms": ["a"], "injected_at": "2026-01-05T00:00:00+00:00", "resolved_at": None,
...     "resolved_by": None, "fixing_actions": ["restart_service"]}], {})
>>> truths[0].root_component, truths[0].fixing_actions
('a', ('restart_service',))
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from selfheal_ml.evaluation.chaos import (
    ChaosReport,
    DiagnosedIncident,
    Escalation,
    ExecutedRepair,
    FaultTruth,
    score_chaos,
)
from selfheal_ml.evaluation.detection import Fault, Observation, match_detections

Json = Mapping[str, Any]
#: Alerts about the service's own reasoning, not signs of a fault (the demo does not count
#: them either).
NOT_DETECTIONS = frozenset({"IncidentDiagnosed", "AgentFailed"})


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _required_time(value: Any) -> datetime:
    moment = _time(value)
    if moment is None:
        raise ValueError(f"expected a timestamp, got {value!r}")
    return moment


def fault_truths(faults: Sequence[Json], dependency_of: Mapping[str, str]) -> list[FaultTruth]:
    """The simulator's faults; the root component is ``dependency_of[kind]`` (a shared
    dependency such as ``postgres``) or the platform the fault started on."""
    truths = []
    for record in sorted(faults, key=lambda item: str(item["injected_at"])):
        kind = str(record["kind"])
        fault = Fault(
            fault_id=str(record["fault_id"]),
            kind=kind,
            platform=record.get("platform"),
            platforms=tuple(record.get("platforms") or ()),
            injected_at=_required_time(record["injected_at"]),
            resolved_at=_time(record.get("resolved_at")),
            resolved_by=record.get("resolved_by"),
            dependencies=tuple(record.get("dependencies") or ()),
        )
        root = dependency_of.get(kind) or str(record.get("platform"))
        truths.append(FaultTruth(fault, tuple(record.get("fixing_actions") or ()), root))
    return truths


def observations(alerts: Sequence[Json]) -> list[Observation]:
    """The alerts as they fired (their ``starts_at``), without the service's own notices and
    without the alerts a running repair's side effect explained (``inhibited_by``)."""
    found = []
    for alert in alerts:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        name = labels.get("alertname", "")
        inhibited = "inhibited_by" in (alert.get("annotations") or {})
        if name not in NOT_DETECTIONS and alert.get("starts_at") and not inhibited:
            found.append(Observation(_required_time(alert["starts_at"]), name, labels))
    return found


def _root_cause(incident: Json) -> str | None:
    """``cause@component`` of the latest diagnosis (the chaos benchmark's form)."""
    diagnosis = incident.get("diagnosis") or {}
    cause, component = diagnosis.get("root_cause"), diagnosis.get("component")
    if cause:
        return f"{cause}@{component}" if component else str(cause)
    label = incident.get("root_cause")
    return None if label is None else str(label)


def _platforms(incident: Json) -> tuple[str, ...]:
    diagnosis = incident.get("diagnosis") or {}
    return tuple(diagnosis.get("platforms") or incident.get("platforms") or ())


def diagnosed_incidents(incidents: Sequence[Json]) -> list[DiagnosedIncident]:
    """The stored incidents (opened = diagnosed; the stored root cause is the latest one)."""
    found = []
    for incident in incidents:
        cause = _root_cause(incident)
        component = cause.split("@", 1)[1] if cause and "@" in cause else None
        found.append(
            DiagnosedIncident(
                incident_id=str(incident["incident_id"]),
                ts=_required_time(incident["opened_at"]),
                platforms=_platforms(incident),
                components=(component,) if component else (),
                top_cause=cause,
            )
        )
    return found


def _ended_fault(
    row: Json, ts: datetime, truths: Sequence[FaultTruth], tolerance_s: float
) -> FaultTruth | None:
    for truth in truths:
        fault = truth.fault
        if (
            fault.resolved_by == row.get("action")
            and fault.resolved_at is not None
            and abs((fault.resolved_at - ts).total_seconds()) <= tolerance_s
        ):
            return truth
    return None


def _had_fault(platform: str, target: str, ts: datetime, truths: Sequence[FaultTruth]) -> bool:
    for truth in truths:
        fault = truth.fault
        ended = fault.resolved_at is None or ts <= fault.resolved_at
        involved = platform in fault.platforms or target == truth.root_component
        if fault.injected_at <= ts and ended and involved:
            return True
    return False


def executed_repairs(
    audit: Sequence[Json],
    truths: Sequence[FaultTruth],
    incidents: Sequence[Json],
    tolerance_s: float = 30.0,
) -> list[ExecutedRepair]:
    """The audit log's executed rows, matched to the faults they ended (module doc)."""
    platforms_of = {str(i["incident_id"]): _platforms(i) for i in incidents}
    repairs = []
    for row in audit:
        if row.get("decision") != "executed":
            continue
        ts = _required_time(row["ts"])
        target, incident_id = str(row.get("target", "")), row.get("incident_id")
        ended = _ended_fault(row, ts, truths, tolerance_s)
        if ended is not None:
            ts = ended.fault.resolved_at or ts
            platform = ended.fault.platform or ended.fault.platforms[0]
        else:
            known = platforms_of.get(str(incident_id), ())
            platform = target if target not in {t.root_component for t in truths} else ""
            platform = platform or (known[0] if known else target)
        repairs.append(
            ExecutedRepair(
                ts=ts,
                incident_id=None if incident_id is None else str(incident_id),
                action=str(row["action"]),
                platform=platform,
                target_had_fault=_had_fault(platform, target, ts, truths),
                fixed=ended is not None,
                approved_by_human=str(row.get("reason", "")).startswith("approved by"),
            )
        )
    return repairs


def escalations(incidents: Sequence[Json], audit: Sequence[Json]) -> list[Escalation]:
    """Escalated incidents, with the reason of their last refusal when the audit has one."""
    last_refusal: dict[str, str] = {}
    for row in sorted(audit, key=lambda item: str(item.get("ts"))):
        if row.get("decision") in {"refused", "expired", "denied"} and row.get("incident_id"):
            last_refusal[str(row["incident_id"])] = str(row.get("reason", ""))
    found = []
    for incident in incidents:
        if incident.get("status") == "escalated":
            incident_id = str(incident["incident_id"])
            ts = _time(incident.get("closed_at")) or _required_time(incident["opened_at"])
            found.append(Escalation(ts, incident_id, last_refusal.get(incident_id, "escalated")))
    return found


def score_live(
    faults: Sequence[Json],
    incidents: Sequence[Json],
    alerts: Sequence[Json],
    audit: Sequence[Json],
    *,
    dependency_of: Mapping[str, str],
    high_risk_actions: Collection[str],
    platform_count: int,
    run_start: datetime,
    run_end: datetime,
) -> ChaosReport:
    """The chaos benchmark's figures for a live run (days = the run's wall-clock length)."""
    truths = fault_truths(faults, dependency_of)
    detection = match_detections([t.fault for t in truths], observations(alerts), run_end=run_end)
    return score_chaos(
        truths,
        detection,
        diagnosed_incidents(incidents),
        executed_repairs(audit, truths, incidents),
        escalations(incidents, audit),
        days=max((run_end - run_start).total_seconds() / 86400.0, 1e-9),
        platform_count=platform_count,
        run_end=run_end,
        high_risk_actions=high_risk_actions,
    )
