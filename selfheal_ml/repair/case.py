"""One incident the Repair agent works on, and the pure checks its decisions rest on.

A :class:`RepairCase` follows the plan of a diagnosed incident one step at a time; its
``state`` is the Repair agent's view of the incident's lifecycle (``ready`` to take the next
step, ``retry`` after a refusal that lifts by itself, ``approval`` while a person decides,
``verifying`` after an action ran, then ``resolved``, ``recovered`` or ``escalated``).

:func:`triggers_recovered` says whether an incident looks healthy again on the latest values:
every threshold alert among its triggers has cleared, and every watched series is back inside
its expected range (widened by :data:`RANGE_TOLERANCE` of the range on each side).

>>> from datetime import UTC, datetime
>>> from selfheal_ml.lifecycle import Trigger
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> watch = (Trigger(kind="range", key="db_up", low=1.0, high=1.0),)
>>> triggers_recovered(watch, {"db_up": (now, 0.0)}, set()), triggers_recovered(
...     watch, {"db_up": (now, 1.0)}, set())
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from selfheal_ml.events import IncidentStatusChanged
from selfheal_ml.lifecycle import Diagnosis, IncidentStatus, ParameterValue, Trigger
from selfheal_ml.repair.strategy import PlannedStep

RANGE_TOLERANCE = 0.25
CaseState = Literal["ready", "retry", "approval", "verifying", "recovered", "resolved", "escalated"]
#: The lifecycle status each state of a case stands for.
STATUS_OF: Mapping[CaseState, IncidentStatus] = {
    "ready": IncidentStatus.DIAGNOSED,
    "retry": IncidentStatus.REPAIRING,
    "approval": IncidentStatus.REPAIRING,
    "verifying": IncidentStatus.VERIFYING,
    "recovered": IncidentStatus.RECOVERED,
    "resolved": IncidentStatus.RESOLVED,
    "escalated": IncidentStatus.ESCALATED,
}
Values = Mapping[str, tuple[datetime, float]]


@dataclass(frozen=True)
class Aim:
    """Where a case's steps act: the target component, its platform, parameters by strategy."""

    target: str
    platform: str
    params: dict[str, dict[str, ParameterValue]]


#: Strategies whose own side effects outlast the default verification window, as multiples of
#: ``verify_s`` (at the default 300 s: a flushed cache is cold for about 10 min, a restore takes
#: the database away for a minute, an index build or a new instance takes minutes to show).
VERIFY_FACTOR: Mapping[str, float] = {
    "clear_cache": 3.0,
    "restore_from_backup": 2.0,
    "add_index": 2.0,
    "reindex": 2.0,
    "scale_out": 2.0,
}


@dataclass
class RepairCase:
    """One incident the agent is working on (mutable: the agent moves it along)."""

    incident_id: str
    correlation_id: str
    target: str
    platform: str
    triggers: tuple[Trigger, ...]
    plan: list[PlannedStep]
    params: dict[str, dict[str, ParameterValue]] = field(default_factory=dict)  # by strategy
    tried: list[str] = field(default_factory=list)
    state: CaseState = "ready"
    step: PlannedStep | None = None
    attempt_id: str | None = None
    approval_id: str | None = None
    approved_by: str | None = None
    started_at: datetime | None = None
    deadline: datetime | None = None
    retry_since: datetime | None = None
    recovered_streak: int = 0
    planless_since: datetime | None = None  # waiting for a diagnosis that names a strategy
    note: str = ""  # the last move, in a line a person reads
    next_aim: Aim | None = None  # a revision's new component, for the steps not yet taken

    @classmethod
    def of(
        cls, incident_id: str, correlation_id: str, diagnosis: Diagnosis, plan: list[PlannedStep]
    ) -> RepairCase:
        """A new case for a diagnosed incident: its target, platform and parameters."""
        aim = _aim(diagnosis)
        return cls(
            incident_id=incident_id, correlation_id=correlation_id, target=aim.target,
            platform=aim.platform, triggers=diagnosis.triggers, plan=plan, params=aim.params,
        )  # fmt: skip

    def revise(self, diagnosis: Diagnosis, plan: list[PlannedStep]) -> bool:
        """Take a revised diagnosis: the untried steps of its plan and its triggers, and its
        aim (a revision may move the cause: the platform's latency first, then the database's
        slow queries behind it). Before any step was tried the aim moves at once; after one,
        only when the revision names another component, and only for the steps not yet taken
        (the step under way still reports on the target it ran on). Seed 7014: a
        pool exhaustion first read as one platform's crash sent the pool reset, after the
        revision, to that platform. False when the case already ended well (resolved or
        recovered): a revision changes nothing then."""
        if self.state in ("resolved", "recovered"):
            return False
        self.plan = [step for step in plan if step.strategy not in self.tried]
        self.triggers = diagnosis.triggers or self.triggers
        aim = _aim(diagnosis)
        if self.state in ("ready", "escalated") and not self.tried:
            self.target, self.platform, self.params = aim.target, aim.platform, aim.params
        elif aim.target != "unknown":
            self.next_aim = aim if aim.target != self.target else None
        return True

    def take_next_step(self) -> PlannedStep:
        """Pop the plan's next step, aimed where the latest revision put the cause."""
        if self.next_aim is not None:
            aim, self.next_aim = self.next_aim, None
            self.target, self.platform, self.params = aim.target, aim.platform, aim.params
        self.step, self.approved_by = self.plan.pop(0), None
        return self.step

    @property
    def finished(self) -> bool:
        """Resolved, recovered or escalated: nothing more to do."""
        return self.state in ("resolved", "recovered", "escalated")

    @property
    def watched_series(self) -> set[str]:
        """The series whose latest values verify recovery."""
        return {trigger.key for trigger in self.triggers if trigger.kind == "range"}


def _aim(diagnosis: Diagnosis) -> Aim:
    """The target (component, else first platform), platform and parameters of a diagnosis."""
    target = diagnosis.component or (diagnosis.platforms[0] if diagnosis.platforms else "")
    target = target or "unknown"
    platform = diagnosis.target_platform or target
    return Aim(
        target, platform, {key: dict(values) for key, values in diagnosis.parameters.items()}
    )


def inside(value: float, low: float | None, high: float | None) -> bool:
    """``value`` within ``[low, high]`` widened by :data:`RANGE_TOLERANCE` of the range.

    >>> inside(1.2, 0.0, 1.0), inside(1.3, 0.0, 1.0), inside(5.0, None, None)
    (True, False, True)
    """
    low_f = -math.inf if low is None else low
    high_f = math.inf if high is None else high
    if math.isfinite(low_f) and math.isfinite(high_f):
        slack = RANGE_TOLERANCE * max(high_f - low_f, 1e-9 + 0.01 * abs(high_f))
        low_f, high_f = low_f - slack, high_f + slack
    return low_f <= value <= high_f


def triggers_recovered(
    triggers: Sequence[Trigger],
    values: Values,
    firing: set[str],
    since: datetime | None = None,
) -> bool:
    """Whether every trigger looks healthy (on values newer than ``since``); no triggers
    means nothing to verify against, which is never "recovered"."""
    if not triggers:
        return False
    for trigger in triggers:
        if trigger.kind == "alert":
            if trigger.key in firing:
                return False
            continue
        seen = values.get(trigger.key)
        if seen is None or (since is not None and seen[0] <= since):
            return False
        if not inside(seen[1], trigger.low, trigger.high):
            return False
    return True


def status_changes(
    cases: Mapping[str, RepairCase], before: Mapping[str, CaseState], source: str, now: datetime
) -> list[IncidentStatusChanged]:
    """One ``IncidentStatusChanged`` for each case whose lifecycle status moved since
    ``before`` (a new case that is merely diagnosed has nothing to announce)."""
    changes: list[IncidentStatusChanged] = []
    for incident_id, case in cases.items():
        status = STATUS_OF[case.state]
        was = before.get(incident_id)
        if STATUS_OF["ready" if was is None else was] is status:
            continue
        changes.append(
            IncidentStatusChanged(
                ts=now, source=source, correlation_id=case.correlation_id,
                incident_id=incident_id, status=status, reason=case.note,
            )
        )  # fmt: skip
    return changes
