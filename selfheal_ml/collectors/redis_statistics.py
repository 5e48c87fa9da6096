"""Redis ``INFO`` as the Performance analysis reads it: hits, misses, evictions, memory.

One ``INFO`` call per reading (``stats`` and ``memory`` sections). :func:`redis_window` turns
two readings into the window's :class:`RedisStats` (counters as increases).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis_asyncio

from selfheal_ml.performance import RedisStats


async def read_redis_info(url: str, timeout_s: float = 5.0) -> dict[str, Any]:
    """The ``stats`` and ``memory`` sections of ``INFO`` of the Redis at ``url``."""
    client = redis_asyncio.Redis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
    )
    try:
        stats: dict[str, Any] = await client.info("stats")
        memory: dict[str, Any] = await client.info("memory")
    finally:
        await client.aclose()
    return {**stats, **memory}


def redis_window(first: dict[str, Any], last: dict[str, Any]) -> RedisStats:
    """The window between two ``INFO`` readings (a restart in between: ``last`` alone).

    >>> window = redis_window({"keyspace_hits": 10, "keyspace_misses": 5},
    ...                       {"keyspace_hits": 30, "keyspace_misses": 85, "evicted_keys": 0})
    >>> window.hits, window.misses, window.evicted_keys
    (20, 80, 0)
    """

    def increase(name: str) -> int:
        now, before = int(last.get(name, 0)), int(first.get(name, 0))
        return now - before if now >= before else now

    return RedisStats(
        hits=increase("keyspace_hits"),
        misses=increase("keyspace_misses"),
        evicted_keys=increase("evicted_keys"),
        used_memory_bytes=int(last.get("used_memory", 0)),
        max_memory_bytes=int(last.get("maxmemory", 0)),
        fragmentation_ratio=float(last.get("mem_fragmentation_ratio", 1.0)),
    )
