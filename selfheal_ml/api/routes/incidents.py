"""Incidents and repair statistics: the closed loop (diagnose, repair, verify) made readable.

- ``GET /v1/incidents?limit=&status=``: recent incidents, newest first, each with its latest
  typed diagnosis (``diagnosis``: root cause, component, platforms, strategy, parameters,
  confidence, evidence, revision, ...) and its repair attempts (oldest first) as the Learning
  agent recorded them in ``incident_repairs``. ``status`` is a lifecycle status
  (:class:`~selfheal_ml.lifecycle.IncidentStatus`), ``open`` (not yet resolved, recovered or
  escalated) or ``all``.
- ``GET /v1/incidents/{id}``: one incident, plus every diagnosis revision and every status
  change with its reason (404 naming ``path.id`` when unknown).
- ``GET /v1/repairs/stats``: per strategy, the verified attempts (outcome ``worked`` or
  ``did_not_work``), the successes and the success rate with its 95 % Wilson interval, best
  lower bound first; plus the audit log's decisions counted by kind.

Like the other ``/v1`` reads these are open; only mutating and ``/admin`` routes take the
admin token. Everything is read through :class:`~selfheal_ml.storage.incidents.IncidentStore`
and :class:`~selfheal_ml.storage.repairs.RepairAuditStore`, so the figures are the stored truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from selfheal_ml.api.deps import RuntimeDep
from selfheal_ml.api.openapi_errors import NOT_FOUND
from selfheal_ml.lifecycle import Diagnosis, IncidentStatus
from selfheal_ml.repair.metrics import wilson_interval

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(tags=["incidents"])

VERIFIED = ("worked", "did_not_work")
DECISIONS = ("executed", "dry_run", "refused", "pending_approval", "denied", "expired")
OPEN_STATUSES = ("open", "opened", "diagnosed", "repairing", "verifying")
StatusFilter = Literal[
    "opened", "diagnosed", "repairing", "verifying", "resolved", "recovered", "escalated",
    "open", "all",
]  # fmt: skip


def _time(value: Any) -> str | None:
    """An ISO-8601 string, or ``None`` for a missing value (``None``, ``NaT``)."""
    import pandas as pd  # the store's frames brought it in already

    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return str(value.isoformat())
    if isinstance(value, datetime):
        return value.isoformat()
    return None


def _number(value: Any) -> float | None:
    """A finite float, or ``None`` (DuckDB's NULL arrives as ``None`` or NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _platforms(value: Any) -> list[str]:
    if value is None or isinstance(value, float):  # NULL
        return []
    return [str(platform) for platform in value]


def attempt_json(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One ``incident_repairs`` row as JSON-ready data."""
    return {
        "attempt_id": str(row["attempt_id"]),
        "ts": _time(row["ts"]),
        "strategy": str(row["strategy"]),
        "action": str(row["action"]),
        "target": str(row["target"]),
        "approved_by": str(row["approved_by"]),
        "outcome": str(row["outcome"]),
        "verified_at": _time(row["verified_at"]),
    }


def _diagnosis(value: Any) -> dict[str, Any] | None:
    """The stored diagnosis (``details``) as JSON-ready data; ``None`` for rows without one."""
    if not isinstance(value, str) or not value.startswith("{") or '"revision"' not in value:
        return None
    return Diagnosis.model_validate_json(value).model_dump(mode="json")


def incident_json(row: Mapping[Any, Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``incidents`` row and its attempts as JSON-ready data."""
    return {
        "incident_id": str(row["incident_id"]),
        "opened_at": _time(row["opened_at"]),
        "closed_at": _time(row["closed_at"]),
        "started_at": _time(row["started_at"]),
        "platforms": _platforms(row["platforms"]),
        "severity": str(row["severity"]),
        "status": str(row["status"]),
        "root_cause": _text(row["root_cause"]),
        "resolved_by": _text(row["resolved_by"]),
        "source": _text(row["source"]),
        "time_to_detect_s": _number(row["time_to_detect_s"]),
        "time_to_repair_s": _number(row["time_to_repair_s"]),
        "diagnosis": _diagnosis(row["details"]),
        "attempts": attempts,
    }


def _attempts_by_incident(frame: pd.DataFrame, ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The attempts (oldest first, as ``attempts_frame`` orders them) of the given incidents."""
    grouped: dict[str, list[dict[str, Any]]] = {incident_id: [] for incident_id in ids}
    if frame.empty:
        return grouped
    for row in frame[frame["incident_id"].isin(ids)].to_dict("records"):
        grouped[str(row["incident_id"])].append(attempt_json(row))
    return grouped


@router.get("/v1/incidents")
def list_incidents(
    runtime: RuntimeDep,
    status: StatusFilter = "all",
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Recent incidents, newest first, each with its repair attempts (two bounded queries,
    whatever the size of the history)."""
    store = runtime.incidents
    wanted = {"all": None, "open": OPEN_STATUSES}.get(status, status)
    rows = store.recent_incidents(limit, wanted).to_dict("records")
    ids = {str(row["incident_id"]) for row in rows}
    attempts = _attempts_by_incident(store.attempts_of(ids), ids)
    return [incident_json(row, attempts[str(row["incident_id"])]) for row in rows]


@router.get("/v1/incidents/{id}", responses=NOT_FOUND)
def get_incident(id: str, runtime: RuntimeDep) -> dict[str, Any]:
    """One incident with its repair attempts."""
    row = runtime.incidents.incident(id)
    if row is None:
        raise HTTPException(
            status_code=404,
            detail={"error": f"path.id: no incident {id!r}", "field": "path.id"},
        )
    attempts = _attempts_by_incident(runtime.incidents.attempts_of([id]), {id})
    transitions = runtime.incidents.transitions([id]).to_dict("records")
    return {
        **incident_json(row, attempts[id]),
        "revisions": [item.model_dump(mode="json") for item in runtime.incidents.revisions(id)],
        "transitions": [
            {
                "ts": _time(item["ts"]),
                "status": str(IncidentStatus(item["status"])),
                "reason": _text(item["reason"]) or "",
            }
            for item in transitions
        ],
    }


def strategy_stats(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per strategy: verified attempts, successes, rate and 95 % Wilson interval; best first
    by the interval's lower bound (then attempts, then name), like the playbooks rank."""
    counts: dict[str, list[int]] = {}
    unverified: dict[str, int] = {}
    if not frame.empty:
        for strategy, outcome in zip(frame["strategy"], frame["outcome"], strict=True):
            name = str(strategy)
            if outcome in VERIFIED:
                tally = counts.setdefault(name, [0, 0])
                tally[0] += 1
                tally[1] += int(outcome == "worked")
            else:
                unverified[name] = unverified.get(name, 0) + 1
    rows = []
    for name in sorted(set(counts) | set(unverified)):
        attempts, successes = counts.get(name, [0, 0])
        low, high = wilson_interval(successes, attempts)
        rows.append((name, attempts, successes, low, high))
    rows.sort(key=lambda row: (-row[3], -row[1], row[0]))
    stats = [
        {
            "strategy": name,
            "attempts": attempts,
            "successes": successes,
            "success_rate": successes / attempts if attempts else None,
            "interval": {"low": low, "high": high},
            "unverified": unverified.get(name, 0),
        }
        for name, attempts, successes, low, high in rows
    ]
    return stats


@router.get("/v1/repairs/stats")
def repair_stats(runtime: RuntimeDep) -> dict[str, Any]:
    """Success by strategy (verified attempts only) and the audit log's decisions by kind."""
    counted = runtime.repairs.decision_counts()
    decisions = {kind: counted.get(kind, 0) for kind in DECISIONS}
    decisions.update({kind: count for kind, count in counted.items() if kind not in decisions})
    return {
        "strategies": strategy_stats(runtime.incidents.attempts_frame()),
        "decisions": decisions,
        "audited": sum(counted.values()),
        "level": 0.95,
    }
