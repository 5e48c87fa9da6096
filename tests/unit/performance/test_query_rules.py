"""Slow queries and N+1 loops."""

from __future__ import annotations

from selfheal_ml.performance import (
    PerformanceThresholds,
    Snapshot,
    StatementStats,
    TraceObservation,
    fingerprint,
)
from selfheal_ml.performance.query_rules import n_plus_one, slow_queries

LIMITS = PerformanceThresholds()
LOOP = "SELECT sku FROM items WHERE order_id = $1"


def statement(query: str, calls: int, mean_ms: float) -> StatementStats:
    return StatementStats(fingerprint(query), query, calls, mean_ms)


def test_a_query_whose_mean_reaches_the_threshold_is_slow() -> None:
    slow = statement("SELECT pg_sleep($1)", calls=4, mean_ms=180.0)
    fast = statement("SELECT 1", calls=900, mean_ms=99.9)
    [finding] = slow_queries(Snapshot(window_s=60, statements=(slow, fast)), LIMITS)
    assert (finding.kind, finding.fingerprint, finding.calls) == ("slow_query", slow.fingerprint, 4)
    assert finding.evidence["total_ms"] == 720.0


def test_the_slow_threshold_and_minimum_calls_are_settings() -> None:
    query = statement("SELECT pg_sleep($1)", calls=1, mean_ms=60.0)
    snapshot = Snapshot(window_s=60, statements=(query,))
    assert slow_queries(snapshot, PerformanceThresholds(slow_query_ms=50.0)) != []
    assert slow_queries(snapshot, PerformanceThresholds(slow_query_ms=50.0, min_slow_calls=2)) == []


def test_many_executions_seen_in_one_trace_are_an_n_plus_one() -> None:
    loop = statement(LOOP, calls=2400, mean_ms=0.05)
    once = statement("SELECT * FROM customers WHERE id = $1", calls=20, mean_ms=0.05)
    traces = (
        TraceObservation(loop.fingerprint, "a" * 32, 5),
        TraceObservation(loop.fingerprint, "b" * 32, 2),
        TraceObservation(once.fingerprint, "a" * 32, 1),
    )
    snapshot = Snapshot(window_s=60, statements=(loop, once), traces=traces)
    [finding] = n_plus_one(snapshot, LIMITS)
    assert finding.fingerprint == loop.fingerprint
    assert finding.evidence["most_executions_seen_in_one_request"] == 5
    assert finding.evidence["requests_traced"] == 2


def test_two_executions_in_one_trace_are_not_enough() -> None:
    query = statement(LOOP, calls=40, mean_ms=0.05)
    traces = (TraceObservation(query.fingerprint, "a" * 32, 2),)
    assert n_plus_one(Snapshot(window_s=60, statements=(query,), traces=traces), LIMITS) == []


def test_without_traces_calls_per_request_reveal_the_loop() -> None:
    loop = statement(LOOP, calls=3000, mean_ms=0.05)
    once = statement("SELECT 1", calls=100, mean_ms=0.05)
    snapshot = Snapshot(window_s=60, statements=(loop, once), requests=100)
    [finding] = n_plus_one(snapshot, LIMITS)
    assert finding.fingerprint == loop.fingerprint
    assert finding.evidence["calls_per_request"] == 30.0
    assert n_plus_one(Snapshot(window_s=60, statements=(loop, once)), LIMITS) == []
