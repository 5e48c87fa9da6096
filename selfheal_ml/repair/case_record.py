"""A :class:`~selfheal_ml.repair.case.RepairCase` as JSON-ready data and back, so the Repair
agent can keep its cases in DuckDB and resume open incidents after a restart.

Every field round-trips: the plan and the current step, what was tried, the attempt under
verification and its deadline, the approval waited for, the retry and planless clocks, and
the aim a revision set for the steps not yet taken.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.lifecycle import Trigger
>>> case = RepairCase(
...     "inc-1", "corr-1", "shop-db", "shop", (Trigger(kind="alert", key="db_down"),),
...     [PlannedStep("reset_db_connections", "runbook", "known fix")],
...     deadline=datetime(2026, 1, 5, tzinfo=UTC),
... )
>>> case_from_json(case_to_json(case)) == case
True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from selfheal_ml.lifecycle import Trigger
from selfheal_ml.repair.case import Aim, CaseState, RepairCase
from selfheal_ml.repair.strategy import PlannedStep, StepSource

_TIMES = ("started_at", "deadline", "retry_since", "planless_since")
_TEXTS = ("attempt_id", "approval_id", "approved_by")


def _step_json(step: PlannedStep) -> dict[str, str]:
    return {"strategy": step.strategy, "source": step.source, "reason": step.reason}


def _step(data: dict[str, str]) -> PlannedStep:
    return PlannedStep(data["strategy"], cast(StepSource, data["source"]), data["reason"])


def _aim_json(aim: Aim) -> dict[str, Any]:
    return {"target": aim.target, "platform": aim.platform, "params": aim.params}


def _aim(data: dict[str, Any] | None) -> Aim | None:
    if data is None:
        return None
    params = {key: dict(values) for key, values in data.get("params", {}).items()}
    return Aim(str(data["target"]), str(data["platform"]), params)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def case_to_json(case: RepairCase) -> dict[str, Any]:
    """``case`` as JSON-ready data."""
    data: dict[str, Any] = {
        "incident_id": case.incident_id,
        "correlation_id": case.correlation_id,
        "target": case.target,
        "platform": case.platform,
        "triggers": [trigger.model_dump(mode="json") for trigger in case.triggers],
        "plan": [_step_json(step) for step in case.plan],
        "params": case.params,
        "tried": list(case.tried),
        "state": case.state,
        "step": None if case.step is None else _step_json(case.step),
        "recovered_streak": case.recovered_streak,
        "note": case.note,
        "next_aim": None if case.next_aim is None else _aim_json(case.next_aim),
    }
    for name in _TIMES:
        value = getattr(case, name)
        data[name] = None if value is None else value.isoformat()
    for name in _TEXTS:
        data[name] = getattr(case, name)
    return data


def case_from_json(data: dict[str, Any]) -> RepairCase:
    """The case :func:`case_to_json` wrote."""
    step = data.get("step")
    return RepairCase(
        incident_id=str(data["incident_id"]),
        correlation_id=str(data["correlation_id"]),
        target=str(data["target"]),
        platform=str(data["platform"]),
        triggers=tuple(Trigger.model_validate(item) for item in data.get("triggers", [])),
        plan=[_step(item) for item in data.get("plan", [])],
        params={key: dict(values) for key, values in data.get("params", {}).items()},
        tried=[str(item) for item in data.get("tried", [])],
        state=cast(CaseState, data["state"]),
        step=None if step is None else _step(step),
        attempt_id=data.get("attempt_id"),
        approval_id=data.get("approval_id"),
        approved_by=data.get("approved_by"),
        started_at=_time(data.get("started_at")),
        deadline=_time(data.get("deadline")),
        retry_since=_time(data.get("retry_since")),
        recovered_streak=int(data.get("recovered_streak", 0)),
        planless_since=_time(data.get("planless_since")),
        note=str(data.get("note", "")),
        next_aim=_aim(data.get("next_aim")),
    )
