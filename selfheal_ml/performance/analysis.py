"""All the rules over one snapshot, with one finding per problem."""

from __future__ import annotations

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.index_rules import duplicate_indexes, missing_indexes, unused_indexes
from selfheal_ml.performance.query_rules import n_plus_one, slow_queries
from selfheal_ml.performance.redis_rules import cache_evictions, memory_fragmentation
from selfheal_ml.performance.resource_rules import (
    cache_inefficiency,
    long_transactions,
    pool_saturation,
)
from selfheal_ml.performance.statistics import Snapshot
from selfheal_ml.performance.thresholds import PerformanceThresholds

_ORDER = (
    "missing_index",
    "slow_query",
    "n_plus_one",
    "duplicate_index",
    "unused_index",
    "cache_inefficiency",
    "pool_saturation",
    "long_transaction",
    "lock_wait",
    "cache_evictions",
    "memory_fragmentation",
    "slow_endpoint",
    "hot_endpoint",
    "memory_leak",
)


def analyse(snapshot: Snapshot, thresholds: PerformanceThresholds | None = None) -> list[Finding]:
    """The findings of ``snapshot``: a slow query that a missing index explains is reported
    once, as the missing index (which carries its mean time); most actionable kinds first.

    >>> from selfheal_ml.performance.statistics import StatementStats
    >>> slow = StatementStats("f1", "SELECT pg_sleep($1)", calls=3, mean_ms=250.0)
    >>> [finding.kind for finding in analyse(Snapshot(window_s=60, statements=(slow,)))]
    ['slow_query']
    """
    limits = thresholds or PerformanceThresholds()
    missing = missing_indexes(snapshot, limits)
    explained = {finding.fingerprint for finding in missing}
    findings = [
        *missing,
        *(item for item in slow_queries(snapshot, limits) if item.fingerprint not in explained),
        *n_plus_one(snapshot, limits),
        *duplicate_indexes(snapshot),
        *unused_indexes(snapshot),
        *cache_inefficiency(snapshot, limits),
        *pool_saturation(snapshot, limits),
        *long_transactions(snapshot, limits),
        *cache_evictions(snapshot, limits),
        *memory_fragmentation(snapshot, limits),
    ]
    return sorted(
        findings,
        key=lambda item: (
            _ORDER.index(item.kind),
            item.table or "",
            item.index or "",
            item.fingerprint or "",
        ),
    )
