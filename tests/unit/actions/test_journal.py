"""The repair service's state survives a restart: a second service on the same DuckDB file,
``resume()``d, answers as the first would have (issue 18, item 3).

Each test closes the first service's database without ceremony and opens a new one on the
same file, which is what a ``kill -9`` and a start leave behind (every write is committed
before the call returns); the real process kill is in tests/integration/test_repair_crash.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from selfheal_ml.actions import (
    ApprovalNotPendingError,
    GuardPolicy,
    RecordingExecutor,
    RepairJournal,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repair_state import RepairStateStore
from selfheal_ml.storage.repairs import RepairAuditStore

ACTIONS = ("restart_service", "add_index")


class Process:
    """One life of the service on ``path``: its database, executor and service."""

    def __init__(self, path: Path, clock: SimClock, **limits: object) -> None:
        self.database = Database(path)
        self.executor = RecordingExecutor()
        policy = GuardPolicy(platform_count=4, **limits)  # type: ignore[arg-type]
        self.audit = RepairAuditStore(self.database)
        self.service = RepairService(
            SafetyGuard(policy),
            dict.fromkeys(ACTIONS, self.executor),
            self.audit,
            clock,
            RepairJournal(RepairStateStore(self.database)),
        )


@pytest.fixture
def lives(db_path: Path, sim_clock: SimClock) -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for life in started:
        life.database.close()


def start(lives: list[Process], path: Path, clock: SimClock, **limits: object) -> Process:
    life = Process(path, clock, **limits)
    lives.append(life)
    return life


def request(action: str = "restart_service", target: str = "p1", n: int = 1) -> RepairRequest:
    return RepairRequest(f"inc-{n}", f"corr-{n}", action, target, params={"table": "t"})


async def test_a_pending_approval_is_re_armed_and_can_be_approved(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock)
    pending = await first.service.propose(request("add_index"))
    assert pending.decision == "pending_approval" and pending.approval_id
    deadline = first.service.pending()[0].expires_at
    sim_clock.advance(60)
    second = start(lives, db_path, sim_clock)
    resumed = await second.service.resume()
    assert (resumed.pending, resumed.expired) == (1, 0)
    [entry] = second.service.pending()
    assert (entry.approval_id, entry.expires_at) == (pending.approval_id, deadline)
    assert entry.request == request("add_index")
    attempt = await second.service.approve(pending.approval_id, by="on-call")
    assert attempt.decision == "executed" and "approved by on-call" in attempt.reason
    assert [call.params for call in second.executor.calls] == [{"table": "t"}]
    assert second.service.answer(pending.approval_id) == attempt


async def test_an_approval_whose_deadline_passed_while_down_is_expired_and_says_so(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock, approval_timeout_s=600)
    pending = await first.service.propose(request("add_index"))
    sim_clock.advance(601)
    second = start(lives, db_path, sim_clock, approval_timeout_s=600)
    resumed = await second.service.resume()
    assert (resumed.pending, resumed.expired) == (0, 1)
    answer = second.service.answer(pending.approval_id or "")
    assert answer is not None and answer.decision == "expired" and answer.escalated
    with pytest.raises(ApprovalNotPendingError, match="expired"):
        await second.service.approve(pending.approval_id or "", by="late")
    third = start(lives, db_path, sim_clock, approval_timeout_s=600)
    await third.service.resume()  # still known (409 expired), never an unknown id (404)
    assert third.service.approvals.get(pending.approval_id or "").state == "expired"
    assert third.service.answer(pending.approval_id or "") == answer


async def test_cooldown_and_rate_window_hold_across_a_restart(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock, cooldown_s=0, rate_limit=2)
    for n in (1, 2):
        attempt = await first.service.propose(request(n=n))
        await first.service.record_outcome(attempt.attempt_id, worked=True)
        sim_clock.advance(10)
    second = start(lives, db_path, sim_clock, cooldown_s=0, rate_limit=2)
    await second.service.resume()
    refused = await second.service.propose(request(n=3))
    assert (refused.decision, refused.refusal) == ("refused", "rate_limited")
    third = start(lives, db_path, sim_clock, cooldown_s=600)
    await third.service.resume()
    cooling = await third.service.propose(request(n=4))
    assert cooling.refusal == "cooling_down" and "last action 10 s ago" in cooling.reason
    assert second.executor.calls == third.executor.calls == []


async def test_an_open_breaker_stays_open_and_a_reset_is_kept(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock, breaker_threshold=1, cooldown_s=0)
    attempt = await first.service.propose(request())
    outcome = await first.service.record_outcome(attempt.attempt_id, worked=False)
    assert outcome.breaker_opened
    second = start(lives, db_path, sim_clock, breaker_threshold=1, cooldown_s=0)
    assert (await second.service.resume()).breakers == 1
    refused = await second.service.propose(request(n=2))
    assert (refused.refusal, refused.escalated) == ("breaker_open", True)
    await second.service.reset_breaker("p1")
    third = start(lives, db_path, sim_clock, breaker_threshold=1, cooldown_s=0)
    assert (await third.service.resume()).breakers == 0
    assert (await third.service.propose(request(n=3))).decision == "executed"


async def test_an_executed_unverified_repair_still_awaits_its_outcome(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock)
    attempt = await first.service.propose(request())
    second = start(lives, db_path, sim_clock)
    assert (await second.service.resume()).unverified == 1
    assert second.service.awaiting_requests() == {attempt.attempt_id: request()}
    # in flight: the blast-radius cap and the half-open trial see it
    assert second.service.guard.in_flight_platforms(sim_clock.now()) == {"p1"}
    sim_clock.advance(120)
    recorded = await second.service.record_outcome(attempt.attempt_id, worked=True)
    assert recorded.worked
    [row] = second.audit.attempts()
    assert (row.outcome, row.finished_at) == ("worked", sim_clock.now())
    third = start(lives, db_path, sim_clock)
    assert (await third.service.resume()).unverified == 0


async def test_an_abandoned_repair_is_closed_as_unknown_without_feeding_the_breaker(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock, breaker_threshold=1)
    attempt = await first.service.propose(request())
    second = start(lives, db_path, sim_clock, breaker_threshold=1)
    await second.service.resume()
    await second.service.abandon(attempt.attempt_id)
    assert second.service.awaiting_outcome() == []
    assert second.service.guard.breaker_state("p1") == (0, None)
    assert [row.outcome for row in second.audit.attempts()] == ["unknown"]


async def test_an_approval_answered_but_unreported_before_the_crash_is_not_run_again(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock)
    pending = await first.service.propose(request("add_index"))
    approval_id = pending.approval_id or ""
    entry = first.service.approvals.approve(approval_id, "on-call", sim_clock.now())
    assert first.service.journal is not None
    first.service.journal.approval(entry)  # what approve() writes before the repair runs
    second = start(lives, db_path, sim_clock)
    await second.service.resume()
    answer = second.service.answer(approval_id)
    assert answer is not None and answer.decision == "refused" and answer.escalated
    assert "restarted before the repair reported" in answer.reason
    assert second.executor.calls == []


async def test_an_executed_row_the_journal_never_saw_is_closed_as_unknown(
    lives: list[Process], db_path: Path, sim_clock: SimClock
) -> None:
    first = start(lives, db_path, sim_clock)
    # the crash came after the audit row and before the journal's execution row
    attempt_id = first.audit.record(
        ts=sim_clock.now(), correlation_id="c", action="restart_service", target="p1",
        decision="executed",
    )  # fmt: skip
    second = start(lives, db_path, sim_clock)
    assert (await second.service.resume()).unverified == 0
    [row] = second.audit.attempts()
    assert (row.attempt_id, row.outcome) == (attempt_id, "unknown")
