"""The Repair agent resumes open incidents after a restart: a repair under verification is
verified, an approval still waited for can be answered, an unrecorded execution is adopted,
finished cases stay finished (issue 18, item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from selfheal_ml.actions import (
    GuardPolicy,
    RecordingExecutor,
    RepairJournal,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.repair import RepairAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import (
    Event,
    IncidentDiagnosed,
    MetricPoint,
    MetricsCollected,
    RepairEscalated,
    RepairExecuted,
    Tick,
)
from selfheal_ml.lifecycle import CauseCandidate, Diagnosis, Trigger
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repair_state import RepairStateStore
from selfheal_ml.storage.repairs import RepairAuditStore

SERIES = 'http_error_ratio{platform="a",status_class="5xx"}'
ACTIONS = ("restart_service", "rollback_config", "add_index")


class Life:
    """One process: database, executor, service and agent on the same DuckDB file."""

    def __init__(self, path: Path, clock: SimClock) -> None:
        self.database = Database(path)
        self.executor = RecordingExecutor()
        self.service = RepairService(
            SafetyGuard(GuardPolicy(platform_count=4, cooldown_s=0)),
            dict.fromkeys(ACTIONS, self.executor),
            RepairAuditStore(self.database),
            clock,
            RepairJournal(RepairStateStore(self.database)),
        )
        extras: dict[str, Any] = {
            "repair_service": self.service,
            "repair_cases": RepairStateStore(self.database),
        }
        context = AgentContext(bus=InMemoryEventBus(), clock=clock, extras=extras)
        self.agent = RepairAgent(context)

    async def start(self) -> None:
        await self.service.resume()
        await self.agent.start()


@pytest.fixture
def lives() -> Iterator[list[Life]]:
    started: list[Life] = []
    yield started
    for life in started:
        life.database.close()


async def begin(lives: list[Life], path: Path, clock: SimClock) -> Life:
    life = Life(path, clock)
    lives.append(life)
    await life.start()
    return life


def diagnosed(clock: SimClock, strategy: str = "restart_service") -> IncidentDiagnosed:
    return IncidentDiagnosed(
        ts=clock.now(),
        source="Diagnostic",
        incident_id="i1",
        diagnosis=Diagnosis(
            revision=1,
            opened_at=clock.now(),
            root_cause="service_crash",
            component="a",
            platforms=("a",),
            confidence=0.8,
            candidates=(
                CauseCandidate(
                    cause="service_crash", component="a", score=0.9, fit=0.9, strategy=strategy
                ),
            ),
            triggers=(Trigger(kind="range", key=SERIES, low=0.0, high=0.01),),
        ),
    )


async def rounds(life: Life, clock: SimClock, value: float, count: int) -> list[Event]:
    produced: list[Event] = []
    for _ in range(count):
        clock.advance(60)
        produced += await life.agent.handle(Tick(ts=clock.now(), source="s", kind="health"))
        point = MetricPoint(series=SERIES, ts=clock.now(), value=value, labels={"platform": "a"})
        collected = MetricsCollected(ts=clock.now(), source="Monitor", points=(point,))
        produced += await life.agent.handle(collected)
    return produced


def executed(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in events if isinstance(e, RepairExecuted)]


async def test_a_repair_under_verification_is_verified_after_a_restart(
    lives: list[Life], db_path: Path, sim_clock: SimClock
) -> None:
    first = await begin(lives, db_path, sim_clock)
    await first.agent.handle(diagnosed(sim_clock))
    assert first.agent.cases["i1"].state == "verifying"
    sim_clock.advance(3600)  # down far past the verification deadline
    second = await begin(lives, db_path, sim_clock)
    case = second.agent.cases["i1"]
    assert case.state == "verifying" and case.deadline is not None
    assert case.deadline >= sim_clock.now() + timedelta(seconds=300)
    produced = await rounds(second, sim_clock, 0.0, 2)
    assert executed(produced) == [("restart_service", "worked")]
    assert second.executor.calls == []  # verified, not run again
    third = await begin(lives, db_path, sim_clock)
    assert third.agent.cases == {}  # resolved: nothing to resume


async def test_an_approval_waited_for_is_answered_after_a_restart(
    lives: list[Life], db_path: Path, sim_clock: SimClock
) -> None:
    first = await begin(lives, db_path, sim_clock)
    await first.agent.handle(diagnosed(sim_clock, strategy="add_index"))
    [pending] = first.service.pending()
    second = await begin(lives, db_path, sim_clock)
    assert second.agent.cases["i1"].state == "approval"
    await second.service.approve(pending.approval_id, by="on-call")
    produced = await rounds(second, sim_clock, 0.0, 3)
    assert [call.action for call in second.executor.calls] == ["add_index"]
    assert executed(produced) == [("add_index", "worked")]


async def test_an_approval_that_expired_while_down_escalates_the_incident(
    lives: list[Life], db_path: Path, sim_clock: SimClock
) -> None:
    first = await begin(lives, db_path, sim_clock)
    await first.agent.handle(diagnosed(sim_clock, strategy="add_index"))
    sim_clock.advance(3600)
    second = await begin(lives, db_path, sim_clock)
    produced = await second.agent.handle(Tick(ts=sim_clock.now(), source="s", kind="health"))
    [escalated] = [e for e in produced if isinstance(e, RepairEscalated)]
    assert escalated.reason.startswith("expired")
    assert second.agent.cases["i1"].state == "escalated"


async def test_an_execution_the_case_had_not_recorded_is_adopted_and_verified(
    lives: list[Life], db_path: Path, sim_clock: SimClock
) -> None:
    first = await begin(lives, db_path, sim_clock)
    first.service.guard.policy = GuardPolicy(platform_count=4, auto_repair=False)
    await first.agent.handle(diagnosed(sim_clock))  # a dry run keeps the case untouched
    first.agent.cases["i1"].state = "ready"
    first.agent.cases["i1"].plan = [first.agent.cases["i1"].step]  # type: ignore[list-item]
    await first.agent.memory.save_changed(first.agent.cases, sim_clock.now())
    first.service.guard.policy = GuardPolicy(platform_count=4, cooldown_s=0)
    # the crash came while the executor ran: executed and journalled, the case not yet saved
    attempt = await first.service.propose(RepairRequest("i1", "c", "restart_service", "a"))
    second = await begin(lives, db_path, sim_clock)
    case = second.agent.cases["i1"]
    assert (case.state, case.attempt_id, case.plan) == ("verifying", attempt.attempt_id, [])
    produced = await rounds(second, sim_clock, 0.0, 2)
    assert executed(produced) == [("restart_service", "worked")]


async def test_an_approval_the_case_had_not_recorded_is_adopted(
    lives: list[Life], db_path: Path, sim_clock: SimClock
) -> None:
    first = await begin(lives, db_path, sim_clock)
    await first.agent.handle(diagnosed(sim_clock, strategy="add_index"))
    [pending] = first.service.pending()
    case = first.agent.cases["i1"]
    # as saved just before the proposal: the step taken, the approval not yet recorded
    case.state, case.approval_id, case.note = "ready", None, ""
    await first.agent.memory.save_case(case, sim_clock.now())
    second = await begin(lives, db_path, sim_clock)
    resumed = second.agent.cases["i1"]
    assert (resumed.state, resumed.approval_id) == ("approval", pending.approval_id)
    assert resumed.step is not None and resumed.step.strategy == "add_index"
    await second.service.approve(pending.approval_id, by="on-call")
    produced = await rounds(second, sim_clock, 0.0, 3)
    assert executed(produced) == [("add_index", "worked")]


@pytest.mark.parametrize(("worked", "state"), [(True, "resolved"), (False, "ready")])
async def test_an_outcome_recorded_before_the_crash_settles_the_resumed_case(
    lives: list[Life], db_path: Path, sim_clock: SimClock, worked: bool, state: str
) -> None:
    first = await begin(lives, db_path, sim_clock)
    await first.agent.handle(diagnosed(sim_clock))
    attempt_id = first.agent.cases["i1"].attempt_id
    assert attempt_id is not None
    await first.service.record_outcome(attempt_id, worked)  # the case was not saved after it
    second = await begin(lives, db_path, sim_clock)
    case = second.agent.cases["i1"]
    assert (case.state, case.attempt_id) == (state, None)
    await rounds(second, sim_clock, 0.5, 1)  # no "no executed repair awaiting" failure
