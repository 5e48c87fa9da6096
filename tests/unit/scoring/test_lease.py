"""PartitionLease on the real Redis: one owner at a time, renewed only by its owner, taken over
after it expires, released on a clean stop."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from selfheal_ml.scoring.lease import LeaseLostError, PartitionLease

REDIS_URL = os.environ.get("SELFHEAL_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def key() -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    name = f"test-lease-{uuid.uuid4().hex[:12]}"
    yield name
    client.delete(name)
    client.close()


async def test_one_owner_at_a_time_until_the_lease_expires(key: str) -> None:
    first = PartitionLease(REDIS_URL, key, "first", ttl_s=0.3)
    second = PartitionLease(REDIS_URL, key, "second", ttl_s=0.3)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    await first.renew()
    await asyncio.sleep(0.4)  # the first owner stopped renewing (killed)
    await asyncio.wait_for(second.acquire(poll_s=0.05), timeout=2.0)
    with pytest.raises(LeaseLostError):
        await first.renew()
    await first.release()  # not ours any more: leaves the second's lease alone
    third = PartitionLease(REDIS_URL, key, "third")
    assert not await third.try_acquire()
    await third.release()
    await second.release()


async def test_a_released_lease_is_free_at_once(key: str) -> None:
    owner = PartitionLease(REDIS_URL, key, "owner", ttl_s=30.0)
    assert await owner.try_acquire()
    await owner.release()
    standby = PartitionLease(REDIS_URL, key, "standby", ttl_s=30.0)
    assert await standby.try_acquire()
    await standby.release()
