"""The real executors against the real servers on this machine and the live simulator.

PostgreSQL: terminates an idle and a stuck session this test opens (tagged with a unique
``application_name``, so no one else's session is touched), creates an index CONCURRENTLY on a
table it creates and drops. Redis: deletes keys under a unique prefix only. Simulator: the app
served by uvicorn on a free loopback port. Each part is skipped, with the reason, when its
server is not reachable.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import redis
from psycopg import sql

from selfheal_ml.actions import (
    GuardPolicy,
    PostgresExecutor,
    RedisExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
    SimulatorExecutor,
)
from selfheal_ml.clock import SimClock
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.server import create_sim_app
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repairs import RepairAuditStore

pytestmark = pytest.mark.integration

ServeApp = Callable[[Any], AbstractContextManager[str]]

START = datetime(2026, 1, 5, 10, tzinfo=UTC)


def request(action: str, target: str = "main-db", **params: object) -> RepairRequest:
    return RepairRequest("inc-it", "corr-it", action, target, params=params)


def session_alive(dsn: str, pid: int) -> bool:
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    return row is not None and int(row[0]) > 0


async def wait_gone(dsn: str, pid: int) -> bool:
    for _ in range(100):
        if not session_alive(dsn, pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_postgres_terminates_an_idle_session(postgres_dsn: str) -> None:
    tag = f"selfheal-test-idle-{uuid.uuid4().hex[:8]}"
    idle = psycopg.connect(postgres_dsn, autocommit=True, application_name=tag)
    try:
        pid = idle.info.backend_pid
        executor = PostgresExecutor("pg", postgres_dsn, timeout_s=10)
        await asyncio.sleep(0.3)
        result = await executor.execute(
            request("pg_terminate_idle", older_than_s=0.1, application_name=tag)
        )
        assert result.ok, result.detail
        assert result.data["terminated_pids"] == [pid]
        assert await wait_gone(postgres_dsn, pid)
        with pytest.raises(psycopg.OperationalError):
            idle.execute("SELECT 1")
    finally:
        idle.close()


async def test_postgres_leaves_young_sessions_alone(postgres_dsn: str) -> None:
    tag = f"selfheal-test-young-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_dsn, autocommit=True, application_name=tag) as young:
        executor = PostgresExecutor("pg", postgres_dsn, timeout_s=10)
        result = await executor.execute(
            request("pg_terminate_idle", older_than_s=3600, application_name=tag)
        )
        assert result.ok and result.data["terminated_pids"] == []
        young.execute("SELECT 1")  # still connected


async def test_postgres_terminates_a_stuck_query(postgres_dsn: str) -> None:
    tag = f"selfheal-test-stuck-{uuid.uuid4().hex[:8]}"
    stuck = await psycopg.AsyncConnection.connect(
        postgres_dsn, autocommit=True, application_name=tag
    )
    pid = stuck.info.backend_pid
    sleeper = asyncio.create_task(stuck.execute("SELECT pg_sleep(30)"))
    try:
        await asyncio.sleep(1.0)
        executor = PostgresExecutor("pg", postgres_dsn, timeout_s=10)
        result = await executor.execute(
            request("pg_terminate_stuck", older_than_s=0.5, application_name=tag)
        )
        assert result.ok and result.data["terminated_pids"] == [pid]
        with pytest.raises(psycopg.OperationalError):
            await asyncio.wait_for(sleeper, 10)
    finally:
        sleeper.cancel()
        await stuck.close()


async def test_postgres_creates_an_index_concurrently_and_reindexes(postgres_dsn: str) -> None:
    table = f"selfheal_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        name = sql.Identifier(table)
        admin.execute(sql.SQL("CREATE TABLE {} (id int, customer_id int)").format(name))
        admin.execute(
            sql.SQL("INSERT INTO {} SELECT g, g % 97 FROM generate_series(1, 2000) g").format(name)
        )
        try:
            executor = PostgresExecutor("pg", postgres_dsn, timeout_s=10, index_timeout_s=60)
            created = await executor.execute(
                request("pg_create_index_concurrently", table=table, columns=["customer_id"])
            )
            assert created.ok, created.detail
            index = created.data["index"]
            row = admin.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = %s",
                (index,),
            ).fetchone()
            assert row == (True,)
            reindexed = await executor.execute(request("pg_reindex", kind="index", name=index))
            assert reindexed.ok, reindexed.detail
            missing = await executor.execute(request("pg_reindex", kind="index", name=f"{index}x"))
            assert not missing.ok and "UndefinedTable" in missing.detail
        finally:
            admin.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))


async def test_redis_deletes_keys_by_pattern_only(redis_url: str) -> None:
    prefix = f"selfheal-test:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    try:
        with client.pipeline() as pipe:
            for index in range(1200):
                pipe.set(f"{prefix}:stale:{index}", "x", ex=600)
            pipe.set(f"{prefix}:keep", "x", ex=600)
            pipe.execute()
        executor = RedisExecutor("cache", redis_url, scan_count=100)
        result = await executor.execute(
            request("redis_delete_pattern", target="cache", pattern=f"{prefix}:stale:*")
        )
        assert result.ok, result.detail
        assert result.data == {"deleted": 1200, "capped": False}
        assert list(client.scan_iter(match=f"{prefix}:stale:*", count=1000)) == []
        assert client.exists(f"{prefix}:keep") == 1
        with client.pipeline() as pipe:
            for index in range(120):
                pipe.set(f"{prefix}:more:{index}", "x", ex=600)
            pipe.execute()
        capped = await RedisExecutor("cache", redis_url, scan_count=100, max_keys=50).execute(
            request("redis_delete_pattern", target="cache", pattern=f"{prefix}:more:*")
        )
        assert capped.ok and capped.data == {"deleted": 50, "capped": True}
        assert len(list(client.scan_iter(match=f"{prefix}:more:*", count=1000))) == 70
        purge = await executor.execute(request("redis_memory_purge", target="cache"))
        assert purge.ok, purge.detail
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


async def test_simulator_executor_repairs_the_live_simulator(serve_app: ServeApp) -> None:
    clock = SimClock(START)
    simulator = PlatformSimulator(seed=3, start=START)
    fault_id = simulator.inject("service_crash", "leadsite.ai")
    with serve_app(create_sim_app(simulator, clock)) as base_url:
        executor = SimulatorExecutor(base_url)
        unknown = await executor.execute(request("fly_to_the_moon", target="leadsite.ai"))
        assert not unknown.ok and "422" in unknown.detail
        database = Database(":memory:")
        try:
            audit = RepairAuditStore(database)
            guard = SafetyGuard(GuardPolicy(platform_count=len(simulator.platform_names)))
            service = RepairService(guard, {"restart_service": executor}, audit, clock)
            clock.advance(120)
            attempt = await service.propose(request("restart_service", target="leadsite.ai"))
            assert attempt.result is not None and attempt.result.ok, attempt.result
            assert attempt.result.data["fixed"] is True
            assert attempt.result.data["fault_ids"] == [fault_id]
            assert [row.decision for row in audit.attempts()] == ["executed"]
        finally:
            database.close()
    assert not simulator.faults(active_only=True)
