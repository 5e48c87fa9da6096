"""Looks at pg_stat_activity become executions, durations and per-request counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.collectors.activity_sampler import ActivitySampler

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TRACE = "0af7651916cd43dd8448eb211c80319c"


def at(milliseconds: float) -> datetime:
    return START + timedelta(milliseconds=milliseconds)


def comment(trace: str = TRACE) -> str:
    return f"/*traceparent='00-{trace}-b7ad6b7169203331-01'*/"


def test_an_execution_seen_twice_counts_once_with_its_exact_duration() -> None:
    sampler = ActivitySampler(START)
    query = "SELECT pg_sleep(0.2)"
    sampler.observe([(7, query, "active", at(0), at(0), at(120))])
    sampler.observe([(7, query, "idle", at(0), at(210), at(300))])
    [statement] = sampler.statements()
    assert (statement.calls, statement.mean_ms, statement.source) == (1, 210.0, "sampling")
    assert statement.query == "SELECT pg_sleep($1)"


def test_queries_that_finished_before_the_window_are_ignored() -> None:
    sampler = ActivitySampler(START)
    sampler.observe([(7, "SELECT 1", "idle", at(-5000), at(-4990), at(10))])
    assert sampler.statements() == []


def test_distinct_executions_inside_one_trace_are_counted_per_query() -> None:
    sampler = ActivitySampler(START)
    loop = "SELECT sku FROM items WHERE order_id = {} " + comment()
    for look, order in enumerate((11, 12, 13, 14)):
        sampler.observe(
            [(9, loop.format(order), "active", at(look * 100), at(look * 100), at(look * 100 + 1))]
        )
    sampler.observe([(10, "SELECT 1 " + comment("f" * 32), "idle", at(5), at(6), at(450))])
    counts = {(t.trace_id, t.executions) for t in sampler.traces()}
    assert counts == {(TRACE, 4), ("f" * 32, 1)}
    assert sampler.looks == 5
