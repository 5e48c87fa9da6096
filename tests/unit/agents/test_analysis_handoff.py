"""Scenario 2's hand-off: the Repair agent waits for the Performance agent's analysis of a
slow-query incident and takes its missing index (table, columns) as the repair's parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from selfheal_ml.actions import (
    GuardPolicy,
    RecordingExecutor,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.repair import RepairAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import IncidentDiagnosed, OptimizationFound, Tick
from selfheal_ml.lifecycle import CauseCandidate, Diagnosis, Trigger
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repairs import RepairAuditStore

DATABASE = "shop-db"
INVESTIGATED = {"table": "orders", "columns": ["status"], "schema": "public"}


@pytest.fixture
def database() -> Iterator[Database]:
    database = Database(":memory:")
    yield database
    database.close()


def repair_agent(clock: SimClock, database: Database) -> tuple[RepairAgent, RepairService]:
    executor = RecordingExecutor()
    actions = ("add_index", "reindex")
    service = RepairService(
        SafetyGuard(GuardPolicy(platform_count=2)),
        dict.fromkeys(actions, executor),
        RepairAuditStore(database),
        clock,
    )
    extras: dict[str, Any] = {
        "repair_service": service,
        "performance_analysers": {DATABASE: object()},
        "repair": {"analysis_wait_s": 60.0},
    }
    context = AgentContext(bus=InMemoryEventBus(), clock=clock, extras=extras)
    return RepairAgent(context), service


def slow_query(
    clock: SimClock,
    component: str = DATABASE,
    cause: str = "slow_query",
    parameters: dict[str, dict[str, Any]] | None = None,
) -> IncidentDiagnosed:
    strategy = "add_index" if parameters else "reindex"
    latency = {"kind": "range", "key": "probe_latency_ms{target=shop-api}", "low": 0, "high": 60}
    return IncidentDiagnosed(
        ts=clock.now(),
        source="Diagnostic",
        incident_id="i1",
        correlation_id="incident-1",
        diagnosis=Diagnosis(
            revision=1,
            opened_at=clock.now(),
            root_cause=cause,
            component=component,
            target_platform="shop",
            platforms=("shop",),
            confidence=0.8,
            known_fix=strategy,
            candidates=(
                CauseCandidate(
                    cause=cause,
                    component=component,
                    score=0.9,
                    fit=0.9,
                    strategy="reindex",
                    alternatives=("add_index",),
                ),
            ),
            triggers=(Trigger.model_validate(latency),),
            parameters=parameters or {},
        ),
    )


def missing_index(clock: SimClock, table: str = "orders") -> OptimizationFound:
    return OptimizationFound(
        ts=clock.now(),
        source="Performance",
        target=DATABASE,
        finding=f"{table} is scanned sequentially",
        suggestion=f"CREATE INDEX CONCURRENTLY ON {table} (customer_id)",
        kind="missing_index",
        table=table,
        columns=("customer_id",),
        correlation_id="incident-1",
    )


def health(clock: SimClock) -> Tick:
    return Tick(ts=clock.now(), source="scheduler", kind="health")


async def test_the_repair_waits_for_the_analysis_and_takes_its_index(
    sim_clock: SimClock, database: Database
) -> None:
    agent, service = repair_agent(sim_clock, database)
    await agent.handle(slow_query(sim_clock, parameters={"add_index": INVESTIGATED}))
    sim_clock.advance(10)
    await agent.handle(health(sim_clock))
    assert service.pending() == []  # held: the Performance agent analyses first
    await agent.handle(missing_index(sim_clock))
    [waiting] = service.pending()
    assert waiting.request.action == "add_index" and waiting.request.target == DATABASE
    # the Performance agent's table and columns win over the investigator's
    assert dict(waiting.request.params) == {
        "table": "orders",
        "columns": ["customer_id"],
        "schema": "public",
    }
    assert waiting.request.correlation_id == "incident-1"


async def test_the_analysis_puts_the_index_before_a_reindex_the_diagnosis_planned(
    sim_clock: SimClock, database: Database
) -> None:
    agent, service = repair_agent(sim_clock, database)
    await agent.handle(slow_query(sim_clock))  # no investigator finding: reindex first
    assert agent.cases["i1"].plan[0].strategy == "reindex"
    await agent.handle(missing_index(sim_clock))
    [waiting] = service.pending()
    assert waiting.request.action == "add_index"
    assert agent.cases["i1"].plan[0].strategy == "reindex"  # still there, afterwards


async def test_without_an_analysis_in_time_the_diagnosis_plan_goes_on(
    sim_clock: SimClock, database: Database
) -> None:
    agent, service = repair_agent(sim_clock, database)
    await agent.handle(slow_query(sim_clock, parameters={"add_index": INVESTIGATED}))
    sim_clock.advance(30)
    await agent.handle(health(sim_clock))
    assert service.pending() == []
    sim_clock.advance(31)
    await agent.handle(health(sim_clock))
    [waiting] = service.pending()
    assert dict(waiting.request.params) == INVESTIGATED
    # a finding after the step was proposed changes nothing
    await agent.handle(missing_index(sim_clock, table="other"))
    assert [dict(item.request.params) for item in service.pending()] == [INVESTIGATED]


async def test_a_slow_query_on_an_unwatched_database_is_not_held(
    sim_clock: SimClock, database: Database
) -> None:
    agent, service = repair_agent(sim_clock, database)
    await agent.handle(slow_query(sim_clock, component="other-db", parameters={
        "add_index": INVESTIGATED}))  # fmt: skip
    assert [item.request.target for item in service.pending()] == ["other-db"]


async def test_a_finding_that_arrives_first_is_applied_without_waiting(
    sim_clock: SimClock, database: Database
) -> None:
    agent, service = repair_agent(sim_clock, database)
    await agent.handle(missing_index(sim_clock))
    await agent.handle(slow_query(sim_clock))
    [waiting] = service.pending()
    assert (waiting.request.action, waiting.request.params["table"]) == ("add_index", "orders")
    assert sim_clock.now() - waiting.requested_at == timedelta(0)
