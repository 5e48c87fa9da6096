"""The repair service end to end in memory: guard -> executor -> audit log, every path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from selfheal_ml.actions import (
    ApprovalNotFoundError,
    ApprovalNotPendingError,
    AttemptNotFoundError,
    ExecutionResult,
    GuardPolicy,
    RecordingExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repairs import RepairAttempt, RepairAuditStore

ACTIONS = ("restart_service", "clear_cache", "add_index")


@pytest.fixture
def audit() -> Iterator[RepairAuditStore]:
    database = Database(":memory:")
    yield RepairAuditStore(database)
    database.close()


def build(
    audit: RepairAuditStore,
    clock: SimClock,
    executor: RecordingExecutor | None = None,
    **limits: object,
) -> tuple[RepairService, RecordingExecutor]:
    executor = executor or RecordingExecutor()
    policy = GuardPolicy(platform_count=4, **limits)  # type: ignore[arg-type]
    service = RepairService(SafetyGuard(policy), dict.fromkeys(ACTIONS, executor), audit, clock)
    return service, executor


def request(action: str = "restart_service", target: str = "p1", n: int = 1) -> RepairRequest:
    return RepairRequest(f"inc-{n}", f"corr-{n}", action, target)


def rows(audit: RepairAuditStore) -> dict[str, RepairAttempt]:
    return {row.attempt_id: row for row in audit.attempts(1000)}


async def test_low_risk_runs_and_its_outcome_finishes_the_row(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, executor = build(audit, sim_clock)
    attempt = await service.propose(request())
    assert attempt.decision == "executed" and attempt.result is not None and attempt.result.ok
    assert [call.action for call in executor.calls] == ["restart_service"]
    assert rows(audit)[attempt.attempt_id].outcome is None
    assert audit.summary().active == 1
    sim_clock.advance(90)
    recorded = await service.record_outcome(attempt.attempt_id, worked=True)
    row = rows(audit)[attempt.attempt_id]
    assert recorded.worked and (row.outcome, row.finished_at) == ("worked", sim_clock.now())
    assert audit.summary().success_rate == 1.0
    with pytest.raises(AttemptNotFoundError):
        await service.record_outcome(attempt.attempt_id, worked=True)


async def test_dry_run_executes_nothing_but_audits(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, executor = build(audit, sim_clock, auto_repair=False)
    attempts = [await service.propose(request(action, n=i)) for i, action in enumerate(ACTIONS)]
    assert executor.calls == []
    assert [a.decision for a in attempts] == ["dry_run"] * 3
    logged = rows(audit)
    assert {logged[a.attempt_id].decision for a in attempts} == {"dry_run"}
    assert {logged[a.attempt_id].correlation_id for a in attempts} == {"corr-0", "corr-1", "corr-2"}
    assert all(row.finished_at is not None for row in logged.values())
    assert audit.summary().total == 0 and service.pending() == []


async def test_high_risk_waits_then_runs_after_approval(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, executor = build(audit, sim_clock)
    pending = await service.propose(request("add_index"))
    assert pending.decision == "pending_approval" and executor.calls == []
    assert [entry.approval_id for entry in service.pending()] == [pending.attempt_id]
    sim_clock.advance(120)
    approved = await service.approve(pending.attempt_id, by="alice")
    assert approved.decision == "executed" and "approved by alice" in approved.reason
    assert [call.action for call in executor.calls] == ["add_index"]
    logged = rows(audit)
    assert logged[pending.attempt_id].finished_at == sim_clock.now()  # the wait is closed
    assert logged[approved.attempt_id].correlation_id == "corr-1"
    with pytest.raises(ApprovalNotPendingError):
        await service.approve(pending.attempt_id, by="bob")


async def test_high_risk_is_refused_after_deny(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, executor = build(audit, sim_clock)
    pending = await service.propose(request("add_index"))
    denied = await service.deny(pending.attempt_id, by="bob")
    assert denied.decision == "denied" and executor.calls == []
    assert rows(audit)[denied.attempt_id].reason == "denied by bob"
    with pytest.raises(ApprovalNotPendingError) as caught:
        await service.approve(pending.attempt_id, by="alice")
    assert caught.value.state == "denied"
    with pytest.raises(ApprovalNotFoundError):
        await service.deny("no-such-id", by="bob")


async def test_unanswered_approval_expires_and_escalates(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, executor = build(audit, sim_clock, approval_timeout_s=600)
    pending = await service.propose(request("add_index"))
    sim_clock.advance(599)
    assert await service.expire_pending() == []
    sim_clock.advance(1)
    expired = await service.expire_pending()
    assert [(a.decision, a.escalated, a.approval_id) for a in expired] == [
        ("expired", True, pending.attempt_id)
    ]
    assert rows(audit)[expired[0].attempt_id].decision == "expired"
    with pytest.raises(ApprovalNotPendingError):
        await service.approve(pending.attempt_id, by="late")
    assert executor.calls == []


async def test_late_approval_is_expired_first(audit: RepairAuditStore, sim_clock: SimClock) -> None:
    service, executor = build(audit, sim_clock, approval_timeout_s=60)
    pending = await service.propose(request("add_index"))
    sim_clock.advance(61)
    with pytest.raises(ApprovalNotPendingError) as caught:
        await service.approve(pending.attempt_id, by="alice")
    assert caught.value.state == "expired" and executor.calls == []
    assert "expired" in {row.decision for row in rows(audit).values()}


async def test_breaker_stops_a_restart_loop_on_an_unfixable_fault(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    """The fault ignores restarts: each verified as ineffective; the third opens the breaker."""
    service, executor = build(audit, sim_clock, cooldown_s=60, breaker_threshold=3)
    decisions, escalations = [], []
    for _ in range(10):
        attempt = await service.propose(request())
        decisions.append(attempt.decision)
        if attempt.escalated:
            escalations.append(attempt.reason)
        if attempt.decision == "executed":
            sim_clock.advance(120)  # verification window: the signal did not recover
            outcome = await service.record_outcome(attempt.attempt_id, worked=False)
            if outcome.breaker_opened:
                escalations.append("breaker opened")
        sim_clock.advance(60)
    assert len(executor.calls) == 3
    assert decisions == ["executed"] * 3 + ["refused"] * 7
    assert escalations[0] == "breaker opened" and "circuit breaker open" in escalations[1]
    assert audit.summary().total == 3 and audit.summary().success_rate == 0.0


async def test_failed_execution_counts_as_ineffective(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    failing = RecordingExecutor(respond=lambda r: ExecutionResult.failed("connection refused"))
    service, _ = build(audit, sim_clock, failing, cooldown_s=0, breaker_threshold=2)
    first = await service.propose(request())
    assert first.result is not None and not first.result.ok and not first.escalated
    assert rows(audit)[first.attempt_id].outcome == "did_not_work"
    assert service.awaiting_outcome() == []
    second = await service.propose(request())
    assert second.escalated  # the breaker opened on the second failure
    assert (await service.propose(request())).decision == "refused"


async def test_executor_that_raises_is_audited_not_propagated(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    def explode(item: RepairRequest) -> ExecutionResult:
        raise RuntimeError("boom")

    service, _ = build(audit, sim_clock, RecordingExecutor(respond=explode))
    attempt = await service.propose(request())
    assert attempt.result is not None and "RuntimeError: boom" in attempt.result.detail
    assert rows(audit)[attempt.attempt_id].outcome == "did_not_work"


async def test_every_path_writes_the_audit_log(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, _ = build(audit, sim_clock, cooldown_s=300, approval_timeout_s=60)
    made = [
        await service.propose(request(n=1)),  # executed
        await service.propose(request(n=2)),  # refused: cooldown
        await service.propose(request("rm_rf", n=3)),  # refused: not allowed
        await service.propose(request("reindex", target="p2", n=4)),  # refused: no executor
    ]
    denied_wait = await service.propose(request("add_index", target="p3", n=5))
    made.append(await service.deny(denied_wait.attempt_id, by="bob"))
    expiring = await service.propose(request("add_index", target="p3", n=6))
    sim_clock.advance(60)
    made.extend(await service.expire_pending())
    made.extend([denied_wait, expiring])
    logged = rows(audit)
    assert {a.attempt_id for a in made} == set(logged)
    for attempt in made:
        assert logged[attempt.attempt_id].correlation_id == attempt.request.correlation_id
        assert logged[attempt.attempt_id].decision == attempt.decision
    assert sorted(row.decision for row in logged.values()) == sorted(
        [
            "executed",
            "refused",
            "refused",
            "refused",
            "pending_approval",
            "denied",
            "pending_approval",
            "expired",
        ]
    )
    assert made[3].escalated and "no executor" in made[3].reason


async def test_high_risk_without_an_executor_is_refused_without_asking(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    service, _ = build(audit, sim_clock)
    attempt = await service.propose(request("restore_from_backup"))  # high risk, no executor
    assert attempt.decision == "refused" and attempt.escalated
    assert service.pending() == []
