"""Executors keyed by target: a repair runs on the target its request names, or is refused
and escalated; never on whichever executor was configured last (issue 18, item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from selfheal_ml.actions import (
    ExecutorRoutes,
    GuardPolicy,
    RecordingExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repairs import RepairAuditStore


@pytest.fixture
def audit() -> Iterator[RepairAuditStore]:
    database = Database(":memory:")
    yield RepairAuditStore(database)
    database.close()


def two_databases() -> tuple[ExecutorRoutes, RecordingExecutor, RecordingExecutor]:
    first, second = RecordingExecutor("postgres:orders-db"), RecordingExecutor("postgres:users-db")
    routes = ExecutorRoutes()
    routes.add("pg_terminate_idle", first, target="orders-db", platform="shop")
    routes.add("pg_terminate_idle", second, target="users-db", platform="accounts")
    return routes, first, second


def on(target: str, action: str = "pg_terminate_idle") -> RepairRequest:
    return RepairRequest("inc-1", "corr-1", action, target)


def test_each_target_has_its_own_executor_whatever_the_order_of_configuration() -> None:
    routes, first, second = two_databases()
    assert routes.resolve(on("orders-db")) is first
    assert routes.resolve(on("users-db")) is second
    assert routes.resolve(on("accounts")) is second  # the target's platform
    assert routes.resolve(on("billing-db")) is None
    assert "pg_terminate_idle" in routes and "redis_memory_purge" not in routes
    assert list(routes) == ["pg_terminate_idle"]


def test_a_platform_with_two_targets_of_one_kind_must_name_the_target() -> None:
    routes = ExecutorRoutes()
    routes.add("pg_reindex", RecordingExecutor("a"), target="a", platform="shop")
    routes.add("pg_reindex", RecordingExecutor("b"), target="b", platform="shop")
    assert routes.resolve(on("shop", "pg_reindex")) is None
    assert "has 2 such targets" in routes.missing(on("shop", "pg_reindex"))


def test_an_executor_for_any_target_serves_every_target() -> None:
    simulator = RecordingExecutor("simulator")
    routes = ExecutorRoutes.for_any_target({"restart_service": simulator})
    assert routes.resolve(on("leadsite.ai", "restart_service")) is simulator
    assert routes.missing(on("x", "clear_cache")) == "no executor configured for action clear_cache"


async def test_the_service_runs_on_the_named_target_or_refuses_and_escalates(
    audit: RepairAuditStore, sim_clock: SimClock
) -> None:
    routes, first, second = two_databases()
    service = RepairService(SafetyGuard(GuardPolicy(platform_count=4)), routes, audit, sim_clock)
    ran = await service.propose(on("users-db"))
    assert ran.decision == "executed" and [c.target for c in second.calls] == ["users-db"]
    assert first.calls == []
    refused = await service.propose(on("billing-db"))
    assert (refused.decision, refused.refusal, refused.escalated) == (
        "refused",
        "no_executor",
        True,
    )
    assert "configured for: orders-db, users-db" in refused.reason
    assert first.calls == [] and len(second.calls) == 1
    logged = {row.target: row.decision for row in audit.attempts()}
    assert logged == {"users-db": "executed", "billing-db": "refused"}
