"""Resource rules: buffer and Redis cache hit ratios, connection pool, transactions, locks."""

from __future__ import annotations

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.statistics import Snapshot
from selfheal_ml.performance.thresholds import PerformanceThresholds


def cache_inefficiency(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """PostgreSQL's buffer hit ratio or Redis' keyspace hit ratio below its threshold, over
    enough accesses in the window to mean something."""
    findings = []
    server = snapshot.server
    if server is not None:
        accesses = server.buffer_hits + server.buffer_reads
        ratio = server.buffer_hits / accesses if accesses else 1.0
        if accesses >= thresholds.min_buffer_accesses and ratio < thresholds.buffer_hit_ratio:
            findings.append(
                Finding(
                    kind="cache_inefficiency",
                    summary=f"PostgreSQL buffer hit ratio {ratio:.1%} over {accesses} blocks",
                    evidence={
                        "cache": "postgres",
                        "hit_ratio": round(ratio, 4),
                        "blocks_hit": server.buffer_hits,
                        "blocks_read": server.buffer_reads,
                        "threshold": thresholds.buffer_hit_ratio,
                    },
                    recommendation="raise shared_buffers, or cut the data read (indexes,"
                    " narrower queries)",
                )
            )
    redis = snapshot.redis
    if redis is not None:
        lookups = redis.hits + redis.misses
        ratio = redis.hits / lookups if lookups else 1.0
        if lookups >= thresholds.min_redis_lookups and ratio < thresholds.redis_hit_ratio:
            findings.append(
                Finding(
                    kind="cache_inefficiency",
                    summary=f"Redis hit ratio {ratio:.1%} over {lookups} lookups",
                    evidence={
                        "cache": "redis",
                        "hit_ratio": round(ratio, 4),
                        "hits": redis.hits,
                        "misses": redis.misses,
                        "evicted_keys": redis.evicted_keys,
                        "used_memory_bytes": redis.used_memory_bytes,
                        "max_memory_bytes": redis.max_memory_bytes,
                        "fragmentation_ratio": redis.fragmentation_ratio,
                        "threshold": thresholds.redis_hit_ratio,
                    },
                    recommendation=(
                        "raise maxmemory or review the eviction policy (keys are evicted)"
                        if redis.evicted_keys
                        else "cache what is read repeatedly, or review key TTLs"
                    ),
                )
            )
    return findings


def pool_saturation(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """Connections in use close to ``max_connections``."""
    server = snapshot.server
    if server is None or server.max_connections <= 0:
        return []
    used = server.connections / server.max_connections
    if used < thresholds.connections_used_ratio:
        return []
    return [
        Finding(
            kind="pool_saturation",
            summary=f"{server.connections} of {server.max_connections} connections in use",
            evidence={
                "connections": server.connections,
                "max_connections": server.max_connections,
                "used_ratio": round(used, 3),
                "threshold": thresholds.connections_used_ratio,
            },
            recommendation="put a pooler (PgBouncer) in front, or shrink the applications'"
            " pool sizes; raise max_connections only with the memory for it",
        )
    ]


def long_transactions(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """Transactions open longer than ``long_transaction_s`` and sessions waiting for a lock
    longer than ``lock_wait_s`` (they hold back vacuum and block writers)."""
    server = snapshot.server
    if server is None:
        return []
    findings = []
    old = [age for age in server.long_transactions if age >= thresholds.long_transaction_s]
    if old:
        findings.append(
            Finding(
                kind="long_transaction",
                summary=f"{len(old)} transactions open for up to {max(old):.0f} s",
                evidence={
                    "count": len(old),
                    "oldest_s": round(max(old), 1),
                    "threshold_s": thresholds.long_transaction_s,
                },
                recommendation="find the sessions in pg_stat_activity and end the"
                " transactions; set idle_in_transaction_session_timeout",
            )
        )
    waiting = [age for age in server.lock_waits if age >= thresholds.lock_wait_s]
    if waiting:
        findings.append(
            Finding(
                kind="lock_wait",
                summary=f"{len(waiting)} sessions waiting for a lock, up to {max(waiting):.0f} s",
                evidence={
                    "count": len(waiting),
                    "longest_s": round(max(waiting), 1),
                    "threshold_s": thresholds.lock_wait_s,
                },
                recommendation="find the blocker with pg_blocking_pids() and shorten its"
                " transaction; set lock_timeout for the waiters",
            )
        )
    return findings
