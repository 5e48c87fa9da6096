"""Repairs reach the right server: two PostgreSQL databases and two Redis databases configured
as targets, each repair runs on the one its request names (issue 18, item 4).

Before the fix every PostgreSQL (or Redis) action ran on the target configured last while the
audit log named the intended one. Here the executors come from the service's own wiring
(:func:`selfheal_ml.ports.repair_executors` over a TOML configuration): idle sessions tagged
alike wait in both PostgreSQL databases (a second database is created for the test and
dropped after), keys under one unique prefix sit in Redis databases 14 and 15, and each
repair must touch only its own target; a target nobody configured is refused and escalated.
Each part skips with the reason when its server is absent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import conninfo, sql

from selfheal_ml.actions import GuardPolicy, RepairRequest, RepairService, SafetyGuard
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings
from selfheal_ml.ports import repair_executors
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.repairs import RepairAuditStore

pytestmark = pytest.mark.integration


@pytest.fixture
def second_database(postgres_dsn: str) -> Iterator[str]:
    """A DSN of a database created for this test on the same server (dropped afterwards)."""
    name = f"selfheal_test_b_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            pytest.skip(f"cannot create a second PostgreSQL database: {error}")
    try:
        yield conninfo.make_conninfo(postgres_dsn, dbname=name)
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def service_for(config: Path, tmp_path: Path) -> tuple[RepairService, Database]:
    """The repair service as ``serve`` wires it from ``config`` (no cooldown, many targets)."""
    database = Database(tmp_path / "selfheal.duckdb")
    guard = SafetyGuard(GuardPolicy(platform_count=10, cooldown_s=0))
    executors = repair_executors(load_settings(config))
    return RepairService(guard, executors, RepairAuditStore(database), SimClock()), database


def idle_pid(connection: psycopg.Connection) -> int:
    return int(connection.info.backend_pid)


async def test_each_postgres_repair_runs_on_the_database_its_request_names(
    postgres_dsn: str, second_database: str, tmp_path: Path
) -> None:
    config = tmp_path / "selfheal.toml"
    config.write_text(
        f'[[targets]]\nkind = "postgres"\nname = "db-a"\nurl = "{postgres_dsn}"\n'
        f'[[targets]]\nkind = "postgres"\nname = "db-b"\nurl = "{second_database}"\n'
    )
    service, database = service_for(config, tmp_path)
    tag = f"selfheal-test-route-{uuid.uuid4().hex[:8]}"
    with (
        psycopg.connect(postgres_dsn, autocommit=True, application_name=tag) as on_a,
        psycopg.connect(second_database, autocommit=True, application_name=tag) as on_b,
    ):
        await asyncio.sleep(0.3)
        params = {"older_than_s": 0.1, "application_name": tag}
        for target, session in (("db-a", on_a), ("db-b", on_b)):
            attempt = await service.propose(
                RepairRequest("inc-1", "corr-1", "pg_terminate_idle", target, params=params)
            )
            assert attempt.result is not None and attempt.result.ok, attempt.result
            assert attempt.result.data["terminated_pids"] == [idle_pid(session)], target
        refused = await service.propose(
            RepairRequest("inc-1", "corr-1", "pg_terminate_idle", "db-c", params=params)
        )
    assert (refused.decision, refused.refusal, refused.escalated) == (
        "refused",
        "no_executor",
        True,
    )
    assert "configured for: db-a, db-b" in refused.reason
    database.close()


async def test_each_redis_repair_runs_on_the_database_its_request_names(
    redis_url: str, tmp_path: Path
) -> None:
    base = redis_url.rsplit("/", 1)[0]
    urls = {"cache-a": f"{base}/14", "cache-b": f"{base}/15"}
    config = tmp_path / "selfheal.toml"
    config.write_text(
        "".join(
            f'[[targets]]\nkind = "redis"\nname = "{name}"\nurl = "{url}"\n'
            for name, url in urls.items()
        )
    )
    service, database = service_for(config, tmp_path)
    prefix = f"selfheal-test-route-{uuid.uuid4().hex[:8]}"
    clients = {name: redis.Redis.from_url(url) for name, url in urls.items()}
    try:
        for client in clients.values():
            client.mset({f"{prefix}:{n}": "x" for n in range(5)})
        request = RepairRequest(
            "inc-2", "corr-2", "redis_delete_pattern", "cache-b", params={"pattern": f"{prefix}:*"}
        )
        attempt = await service.propose(request)
        assert attempt.result is not None and attempt.result.ok, attempt.result
        assert attempt.result.data["deleted"] == 5
        assert len(clients["cache-b"].keys(f"{prefix}:*")) == 0
        assert len(clients["cache-a"].keys(f"{prefix}:*")) == 5  # the other database untouched
    finally:
        for client in clients.values():
            keys = client.keys(f"{prefix}:*")
            if keys:
                client.delete(*keys)
            client.close()
        database.close()
