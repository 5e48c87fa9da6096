"""Cache hit ratios, connection pool, long transactions and lock waits."""

from __future__ import annotations

from selfheal_ml.performance import PerformanceThresholds, RedisStats, ServerStats, Snapshot
from selfheal_ml.performance.resource_rules import (
    cache_inefficiency,
    long_transactions,
    pool_saturation,
)

LIMITS = PerformanceThresholds()


def test_a_low_buffer_hit_ratio_over_enough_blocks_is_a_cache_problem() -> None:
    server = ServerStats(buffer_hits=80_000, buffer_reads=20_000)
    [finding] = cache_inefficiency(Snapshot(window_s=60, server=server), LIMITS)
    assert finding.evidence["cache"] == "postgres" and finding.evidence["hit_ratio"] == 0.8


def test_a_low_ratio_over_few_blocks_means_nothing() -> None:
    server = ServerStats(buffer_hits=50, buffer_reads=50)
    assert cache_inefficiency(Snapshot(window_s=60, server=server), LIMITS) == []


def test_a_low_redis_hit_ratio_names_evictions_when_keys_are_evicted() -> None:
    redis = RedisStats(hits=300, misses=1_700, evicted_keys=40)
    [finding] = cache_inefficiency(Snapshot(window_s=60, redis=redis), LIMITS)
    assert finding.evidence["cache"] == "redis" and finding.evidence["hit_ratio"] == 0.15
    assert finding.recommendation is not None and "maxmemory" in finding.recommendation
    healthy = RedisStats(hits=1_900, misses=100)
    assert cache_inefficiency(Snapshot(window_s=60, redis=healthy), LIMITS) == []


def test_connections_close_to_the_limit_saturate_the_pool() -> None:
    full = Snapshot(window_s=60, server=ServerStats(connections=85, max_connections=100))
    [finding] = pool_saturation(full, LIMITS)
    assert finding.evidence["used_ratio"] == 0.85
    calm = Snapshot(window_s=60, server=ServerStats(connections=20, max_connections=100))
    assert pool_saturation(calm, LIMITS) == []


def test_old_transactions_and_long_lock_waits_are_reported_once_each() -> None:
    server = ServerStats(long_transactions=(12.0, 400.0, 900.0), lock_waits=(1.0, 7.5))
    findings = long_transactions(Snapshot(window_s=60, server=server), LIMITS)
    assert [(f.kind, f.evidence["count"]) for f in findings] == [
        ("long_transaction", 2),
        ("lock_wait", 1),
    ]
