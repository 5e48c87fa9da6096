"""The Repair agent's memory across restarts: its cases kept in DuckDB, and resumed.

:class:`CaseMemory` writes every case whose content changed after each event the agent
handles (one transaction, off the event loop), finished cases included, so that a restart
resumes exactly the open ones (``ready``, ``retry``, ``approval``, ``verifying``). On the
process's first start it also reconciles the cases with the repair service's executed but
unverified repairs:

- a case under verification gets at least one full verification window from the restart
  (its signals were not watched while the service was down);
- an unverified repair of an open case that had not yet recorded it (the crash came while the
  executor ran) is adopted: the case verifies it; likewise a pending approval its case had
  not recorded becomes the case's approval; a step saved but never proposed goes back on the
  plan (the case is saved just before each proposal, :meth:`CaseMemory.save_case`);
- an unverified repair that no case owns can no longer be verified: it is closed as
  ``unknown`` (:meth:`~selfheal_ml.actions.RepairService.abandon`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.actions import RepairRequest, RepairService
from selfheal_ml.clock import Clock, run_blocking
from selfheal_ml.repair.case import RepairCase
from selfheal_ml.repair.case_record import case_from_json, case_to_json
from selfheal_ml.repair.strategy import PlannedStep
from selfheal_ml.storage.repair_state import RepairStateStore

Row = tuple[str, str, bool, dict[str, Any]]
log = logging.getLogger("selfheal_ml.agents.repair")


class CaseMemory:
    """Keeps cases in a :class:`RepairStateStore` (nothing is kept without one)."""

    def __init__(self, store: RepairStateStore | None, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self._saved: dict[str, str] = {}
        self._resumed = False  # the agent's start() also runs after a supervised restart

    async def load(self) -> list[RepairCase]:
        """The open cases kept before the restart."""
        if self.store is None:
            return []
        bodies = await run_blocking(self.clock, self.store.open_cases)
        for body in bodies:
            self._saved[str(body["incident_id"])] = json.dumps(body, sort_keys=True)
        return [case_from_json(body) for body in bodies]

    async def resume(
        self,
        cases: dict[str, RepairCase],
        service: RepairService | None,
        action_for: Callable[[str], str],
        window_s: Callable[[str], float],
    ) -> None:
        """Load the open cases into ``cases`` and :func:`reconcile` them with the service
        (on the process's first start only)."""
        if self._resumed:
            return
        self._resumed, now = True, self.clock.now()
        for case in await self.load():
            cases.setdefault(case.incident_id, case)
        if service is not None:
            moved = await reconcile(cases, service, action_for, window_s, now)
            log.info("resumed %d open case(s); adopted, abandoned: %s", len(cases), moved)
        await self.save_changed(cases, now)

    async def save_changed(
        self, cases: Mapping[str, RepairCase], now: datetime, *, forget_others: bool = True
    ) -> None:
        """Write the cases whose content changed since they were last written."""
        if self.store is None:
            return
        rows: list[Row] = []
        for incident_id, case in cases.items():
            body = case_to_json(case)
            text = json.dumps(body, sort_keys=True)
            if self._saved.get(incident_id) != text:
                rows.append((incident_id, case.state, case.finished, body))
                self._saved[incident_id] = text
        for gone in set(self._saved) - set(cases) if forget_others else ():
            del self._saved[gone]
        if rows:
            await run_blocking(self.clock, self._write, rows, now)

    async def save_case(self, case: RepairCase, now: datetime) -> None:
        """Write one case now (before its step is proposed: a crash during the proposal
        then finds the case and :func:`reconcile` links it to what the service kept)."""
        await self.save_changed({case.incident_id: case}, now, forget_others=False)

    def _write(self, rows: list[Row], now: datetime) -> None:
        assert self.store is not None
        for incident_id, state, finished, body in rows:
            self.store.save_case(incident_id, state, finished, body, now)


async def reconcile(
    cases: Mapping[str, RepairCase],
    service: RepairService,
    action_for: Callable[[str], str],
    window_s: Callable[[str], float],
    now: datetime,
) -> tuple[int, int]:
    """Reconcile resumed cases with unverified repairs (see module doc); ``window_s(strategy)``
    is a strategy's verification window. Returns ``(adopted, abandoned)``."""
    owned = {case.attempt_id for case in cases.values() if case.attempt_id}
    adopted = abandoned = 0
    awaiting = service.awaiting_requests()
    for attempt_id, request in awaiting.items():
        if attempt_id in owned:
            continue
        case = cases.get(request.incident_id)
        if case is None or case.finished or case.state == "verifying":
            await service.abandon(attempt_id)
            abandoned += 1
            continue
        _adopt(case, request, action_for, now)
        case.state, case.attempt_id = "verifying", attempt_id
        case.tried.append(case.step.strategy if case.step else request.action)
        case.note = f"{request.action} ran on {case.target} before a restart; verifying"
        adopted += 1
    for case in cases.values():
        if case.state == "verifying" and case.attempt_id and case.attempt_id not in awaiting:
            _settled(case, await service.recorded_outcome(case.attempt_id))
    waiting = {entry.request.incident_id: entry for entry in service.pending()}
    for case in cases.values():
        entry = waiting.get(case.incident_id)
        if case.state in ("ready", "retry") and entry is not None:
            _adopt(case, entry.request, action_for, now)  # proposed, then the crash
            case.state, case.approval_id, case.attempt_id = "approval", entry.approval_id, None
            case.note = f"{case.step.strategy if case.step else '?'} waits for approval"
        elif case.state == "ready" and case.step and case.step.strategy not in case.tried:
            case.plan.insert(0, case.step)  # the crash came before the step was proposed
            case.step = None
    for case in cases.values():
        if case.state == "verifying" and case.step is not None:
            fresh = now + timedelta(seconds=window_s(case.step.strategy))
            case.deadline = max(case.deadline or fresh, fresh)
    return adopted, abandoned


def _settled(case: RepairCase, outcome: str | None) -> None:
    """A case still verifying an attempt whose outcome was recorded before the crash (the
    case was not saved after it): resolved if it worked, else on to the next step."""
    step = case.step.strategy if case.step else "the repair"
    case.attempt_id = None
    if outcome == "worked":
        case.state, case.note = "resolved", f"{step} worked (verified before a restart)"
    else:
        case.state, case.note = "ready", f"{step}: {outcome or 'unknown'} before a restart"


def _adopt(
    case: RepairCase, request: RepairRequest, action_for: Callable[[str], str], now: datetime
) -> None:
    """Make the step behind ``request`` the case's current one (it was proposed or ran, but
    the case had not recorded it before the crash); the caller sets the state."""
    steps = ([case.step] if case.step else []) + case.plan
    step = next((s for s in steps if action_for(s.strategy) == request.action), None)
    if step is None:
        step = PlannedStep(request.action, "runbook", "proposed before a restart")
    elif step in case.plan:
        case.plan.remove(step)
    case.step, case.started_at, case.recovered_streak = step, now, 0
    log.info("incident %s: adopted %s of %s", case.incident_id, request.action, case.target)
