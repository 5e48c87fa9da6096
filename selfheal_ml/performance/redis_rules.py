"""Redis rules beyond the hit ratio: a full cache that evicts keys, fragmented memory."""

from __future__ import annotations

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.statistics import Snapshot
from selfheal_ml.performance.thresholds import PerformanceThresholds


def cache_evictions(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """At least ``min_evicted_keys`` keys evicted in the window: the cache is full and drops
    keys the application will miss.

    >>> from selfheal_ml.performance.statistics import RedisStats
    >>> full = Snapshot(window_s=300, redis=RedisStats(hits=900, misses=100, evicted_keys=450))
    >>> [f.kind for f in cache_evictions(full, PerformanceThresholds())]
    ['cache_evictions']
    """
    redis = snapshot.redis
    if redis is None or redis.evicted_keys < thresholds.min_evicted_keys:
        return []
    per_s = redis.evicted_keys / snapshot.window_s if snapshot.window_s > 0 else None
    return [
        Finding(
            kind="cache_evictions",
            summary=f"Redis evicted {redis.evicted_keys} keys in {snapshot.window_s:.0f} s",
            evidence={
                "evicted_keys": redis.evicted_keys,
                "evicted_per_s": None if per_s is None else round(per_s, 3),
                "used_memory_bytes": redis.used_memory_bytes,
                "max_memory_bytes": redis.max_memory_bytes,
                "threshold": thresholds.min_evicted_keys,
            },
            recommendation="raise maxmemory, give keys shorter TTLs, or cache less; check the"
            " maxmemory-policy evicts what can be recomputed (allkeys-lru)",
        )
    ]


def memory_fragmentation(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """``mem_fragmentation_ratio`` at least ``fragmentation_ratio`` with at least
    ``min_fragmented_bytes`` used: memory the allocator holds but Redis does not use."""
    redis = snapshot.redis
    if redis is None or redis.used_memory_bytes < thresholds.min_fragmented_bytes:
        return []
    if redis.fragmentation_ratio < thresholds.fragmentation_ratio:
        return []
    return [
        Finding(
            kind="memory_fragmentation",
            summary=f"Redis memory fragmentation ratio {redis.fragmentation_ratio:.2f}"
            f" over {redis.used_memory_bytes / 2**20:.0f} MiB used",
            evidence={
                "fragmentation_ratio": redis.fragmentation_ratio,
                "used_memory_bytes": redis.used_memory_bytes,
                "threshold": thresholds.fragmentation_ratio,
            },
            recommendation="enable activedefrag (jemalloc builds), or restart the replica"
            " first and fail over",
        )
    ]
