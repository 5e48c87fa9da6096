"""The two bus implementations as one fixture, so the contract tests run on both.

The Redis bus needs the real server (``SELFHEAL_TEST_REDIS``, default 127.0.0.1:6379); without
it those cases skip with the reason. Every Redis bus gets a stream prefix of its own, and its
keys are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from selfheal_ml.bus import EventBus, InMemoryEventBus, RedisStreamsEventBus

REDIS_URL = os.environ.get("SELFHEAL_TEST_REDIS", "redis://127.0.0.1:6379/0")

BusFactory = Callable[[], EventBus]


def redis_available() -> str | None:
    """``None`` when the test Redis answers, else why not."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"no Redis at {REDIS_URL}: {exc}"
    return None


def delete_prefix(prefix: str) -> None:
    """Remove every key under ``prefix`` (a test's streams)."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the test Redis, removed afterwards (skips without Redis)."""
    reason = redis_available()
    if reason:
        pytest.skip(reason)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    delete_prefix(prefix)


@pytest.fixture(params=["memory", "redis"])
def make_bus(request: pytest.FixtureRequest) -> Iterator[BusFactory]:
    """A factory of fresh buses of one implementation (several per test: hypothesis)."""
    if request.param == "memory":
        yield InMemoryEventBus
        return
    reason = redis_available()
    if reason:
        pytest.skip(reason)
    prefixes: list[str] = []

    def redis_bus() -> EventBus:
        prefixes.append(f"test-{uuid.uuid4().hex[:12]}")
        return RedisStreamsEventBus(REDIS_URL, prefix=prefixes[-1], block_ms=50)

    yield redis_bus
    for prefix in prefixes:
        delete_prefix(prefix)


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for ``condition`` (polled), failing after ``timeout_s``."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - polling plain state in a test
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout=timeout_s)
