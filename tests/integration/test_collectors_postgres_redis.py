"""The PostgreSQL and Redis collectors against the real servers on this machine.

Skipped, with the reason, when a server is not reachable on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis.asyncio as redis_asyncio

from selfheal_ml.collectors import Collector, PostgresCollector, RedisCollector, collect_all
from selfheal_ml.events import MetricPoint

pytestmark = pytest.mark.integration

MONITOR_APPLICATION = "selfheal-ml-monitor"
START = datetime.now(UTC)


def by_series(points: list[MetricPoint]) -> dict[str, float]:
    return {point.series: point.value for point in points}


def monitor_sessions(dsn: str) -> int:
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (MONITOR_APPLICATION,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def commit_transactions(dsn: str, count: int) -> None:
    """Commit ``count`` transactions and make their statistics visible to other sessions."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        for _ in range(count):
            connection.execute("SELECT 1")  # each autocommit statement is one transaction
        # PostgreSQL >= 15 flushes statistics lazily: ask for it before the next idle. On an
        # older server or without the privilege, the flush at disconnect is the fallback.
        with contextlib.suppress(psycopg.Error):
            connection.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.2)


@pytest.fixture
def busy_sessions(postgres_dsn: str) -> Iterator[None]:
    """One idle session and one idle-in-transaction session, held open during the test."""
    idle = psycopg.connect(postgres_dsn, autocommit=True)
    in_transaction = psycopg.connect(postgres_dsn)
    in_transaction.execute("SELECT 1")  # opens a transaction and leaves it open
    try:
        yield
    finally:
        in_transaction.rollback()
        in_transaction.close()
        idle.close()


async def test_postgres_collector_reads_a_real_server(
    postgres_dsn: str, busy_sessions: None
) -> None:
    collector = PostgresCollector("main-db", postgres_dsn, timeout_s=5.0, platform="leadsite.ai")
    first = by_series(await collector.collect(START))
    labels = 'platform="leadsite.ai",target="main-db"'
    assert first[f"db_up{{{labels}}}"] == 1.0, collector.last_error
    assert 0.0 < first[f"db_select1_latency_ms{{{labels}}}"] < 5000.0
    assert first[f"db_max_connections{{{labels}}}"] >= 1.0
    state = 'db_connections{{platform="leadsite.ai",state="{}",target="main-db"}}'
    assert first[state.format("idle")] >= 1.0
    assert first[state.format("idle_in_transaction")] >= 1.0
    assert first[state.format("total")] >= 2.0
    assert 0.0 <= first[f"db_cache_hit_ratio{{{labels}}}"] <= 1.0
    assert not any("_per_second" in series for series in first)

    commit_transactions(postgres_dsn, count=20)
    second = by_series(await collector.collect(START + timedelta(seconds=10)))
    assert second[f"db_xact_commit_per_second{{{labels}}}"] >= 2.0  # >= 20 commits / 10 s
    assert second[f"db_xact_rollback_per_second{{{labels}}}"] >= 0.0
    assert second[f"db_deadlocks_per_second{{{labels}}}"] >= 0.0


async def test_postgres_collector_leaves_no_session_behind(postgres_dsn: str) -> None:
    collector = PostgresCollector("main-db", postgres_dsn, timeout_s=5.0)
    before = monitor_sessions(postgres_dsn)
    for round_index in range(3):
        await collector.collect(START + timedelta(seconds=round_index))
    # A closed session's server process exits a few milliseconds after the client hangs up.
    for _ in range(60):
        if monitor_sessions(postgres_dsn) <= before:
            break
        await asyncio.sleep(0.05)
    assert monitor_sessions(postgres_dsn) == before


async def test_postgres_bad_database_is_db_up_zero(postgres_dsn: str) -> None:
    dsn = postgres_dsn.rsplit("/", 1)[0] + "/no_such_database_selfheal"
    collector = PostgresCollector("main-db", dsn, timeout_s=5.0)
    assert by_series(await collector.collect(START)) == {'db_up{target="main-db"}': 0.0}
    assert collector.last_error is not None
    assert "no_such_database_selfheal" in collector.last_error


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_redis_collector_reads_a_real_server(
    redis_url: str, redis_client: redis_asyncio.Redis
) -> None:
    collector = RedisCollector("cache", redis_url, timeout_s=5.0, platform="videosite.io")
    labels = 'platform="videosite.io",target="cache"'
    key = f"selfheal-test:collectors:{os.getpid()}"
    await redis_client.set(key, "value", ex=60)
    first = by_series(await collector.collect(START))
    assert first[f"cache_up{{{labels}}}"] == 1.0, collector.last_error
    assert 0.0 < first[f"cache_ping_latency_ms{{{labels}}}"] < 5000.0
    assert first[f"cache_memory_bytes{{{labels}}}"] > 0.0
    assert first[f"cache_connected_clients{{{labels}}}"] >= 2.0  # ours and the test client

    for _ in range(300):
        await redis_client.get(key)  # hits
    second = by_series(await collector.collect(START + timedelta(seconds=10)))
    assert second[f"cache_hit_ratio{{{labels}}}"] > 0.5
    assert second[f"cache_commands_per_second{{{labels}}}"] >= 30.0  # >= 300 GETs / 10 s
    assert second[f"cache_evicted_keys_per_second{{{labels}}}"] >= 0.0

    for index in range(300):
        await redis_client.get(f"{key}:missing:{index}")  # misses
    third = by_series(await collector.collect(START + timedelta(seconds=20)))
    assert third[f"cache_hit_ratio{{{labels}}}"] < 0.5
    await redis_client.delete(key)


async def test_redis_collector_leaves_no_client_behind(
    redis_url: str, redis_client: redis_asyncio.Redis
) -> None:
    collector = RedisCollector("cache", redis_url, timeout_s=5.0)
    for round_index in range(3):
        await collector.collect(START + timedelta(seconds=round_index))
    clients = await redis_client.client_list()
    assert [client for client in clients if client.get("name") == MONITOR_APPLICATION] == []


async def test_round_over_both_servers_and_a_dead_one(postgres_dsn: str, redis_url: str) -> None:
    with socket.socket() as unused_socket:
        unused_socket.bind(("127.0.0.1", 0))
        dead_port = unused_socket.getsockname()[1]
    collectors: list[Collector] = [
        PostgresCollector("main-db", postgres_dsn, timeout_s=3.0),
        RedisCollector("cache", redis_url, timeout_s=3.0),
        RedisCollector("dead-cache", f"redis://127.0.0.1:{dead_port}/0", timeout_s=3.0),
    ]
    result = await collect_all(collectors, START, timeout_s=4.0)
    values = by_series(result.points)
    assert values['db_up{target="main-db"}'] == 1.0
    assert values['cache_up{target="cache"}'] == 1.0
    assert values['cache_up{target="dead-cache"}'] == 0.0
    assert set(result.errors) == {"redis:dead-cache"}
