"""The index investigator's pure parts on hand-written plans, and its refusals.

The plans below are the shape ``EXPLAIN (FORMAT JSON, VERBOSE)`` of PostgreSQL 15 prints; the
end-to-end run against a real server is tests/integration/test_scenario_slow_query.py.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from selfheal_ml.collectors.query_trace import (
    PostgresIndexInvestigator,
    explainable,
    filter_columns,
    fingerprint,
    index_candidates,
    rank_samples,
    sequential_scans,
)
from selfheal_ml.diagnosis.investigation import Finding, Investigator
from selfheal_ml.diagnosis.observations import Observation

BIG = {("public", "orders"): 2_000_000.0}


def scan(filter_text: str, table: str = "orders", alias: str | None = None) -> dict[str, Any]:
    return {
        "Node Type": "Seq Scan",
        "Parallel Aware": False,
        "Relation Name": table,
        "Schema": "public",
        "Alias": alias or table,
        "Plan Rows": 20,
        "Filter": filter_text,
    }


def plan_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Plan": node}]


def test_a_seq_scan_on_an_equality_filter_asks_for_that_column() -> None:
    plan = plan_of(scan("(orders.customer_id = 42)"))
    [candidate] = index_candidates(plan, BIG, min_rows=10_000)
    assert (candidate.schema, candidate.table, candidate.columns) == (
        "public",
        "orders",
        ("customer_id",),
    )
    assert candidate.params() == {"table": "orders", "columns": ["customer_id"], "schema": "public"}


def test_equality_columns_come_first_then_one_range_column() -> None:
    text = (
        "((o.total > '5'::numeric) AND (o.created_at < '2026-01-01'::date)"
        " AND (o.customer_id = 42) AND ((o.status)::text = 'open'::text))"
    )
    assert filter_columns(text, alias="o") == ("customer_id", "status", "total")


def test_any_and_quoted_identifiers_are_simple_comparisons() -> None:
    assert filter_columns("(o.customer_id = ANY ('{1,2,3}'::integer[]))", "o") == ("customer_id",)
    assert filter_columns('("Order Items"."SKU" = \'a AND b\'::text)', "Order Items") == ("SKU",)


@pytest.mark.parametrize(
    "text",
    [
        "((o.customer_id = 1) OR (o.total < '3'::numeric))",  # an OR: one index does not serve it
        "(lower((o.status)::text) = 'x'::text)",  # a function of the column
        "(o.customer_id = c.id)",  # another column, not a constant
        "(o.customer_id <> 42)",  # inequality: an index does not help
        "(o.customer_id = 42",  # unbalanced
    ],
)
def test_filters_an_index_would_not_serve_give_no_columns(text: str) -> None:
    assert filter_columns(text, alias="o") == ()


def test_an_outer_relations_column_is_not_this_tables() -> None:
    assert filter_columns("((o.customer_id = 42) AND (c.region = 'eu'::text))", "o") == (
        "customer_id",
    )


def test_nested_and_parallel_scans_are_found_small_tables_are_not() -> None:
    parallel = scan("(orders.customer_id = 7)") | {"Parallel Aware": True}
    small = scan("(regions.code = 'eu'::text)", table="regions")
    plan = plan_of(
        {
            "Node Type": "Nested Loop",
            "Plans": [
                {"Node Type": "Gather", "Plans": [parallel]},
                small,
                {"Node Type": "Index Scan", "Relation Name": "items", "Filter": "(qty > 1)"},
            ],
        }
    )
    assert [item[1] for item in sequential_scans(plan)] == ["orders", "regions"]
    rows = {**BIG, ("public", "regions"): 30.0}
    assert [c.table for c in index_candidates(plan, rows, min_rows=10_000)] == ["orders"]


def test_a_relation_of_unknown_size_or_already_indexed_does_not_qualify() -> None:
    plan = plan_of(scan("(orders.customer_id = 42)"))
    assert index_candidates(plan, {}, min_rows=10_000) == []
    indexed = {("public", "orders"): ["customer_id"]}
    assert index_candidates(plan, BIG, min_rows=10_000, indexed=indexed) == []
    other_index = {("public", "orders"): ["id"]}
    assert len(index_candidates(plan, BIG, min_rows=10_000, indexed=other_index)) == 1


def test_malformed_plans_give_nothing() -> None:
    assert sequential_scans(None) == []
    assert sequential_scans([{"no plan": 1}]) == []
    assert sequential_scans(plan_of({"Node Type": "Seq Scan", "Relation Name": "t"})) == []


def test_only_a_single_literal_select_is_explained() -> None:
    assert explainable("  select id from orders where customer_id = 4;  ")
    assert not explainable("SELECT id FROM orders WHERE customer_id = $1")
    assert not explainable("UPDATE orders SET total = 0")
    assert not explainable("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone")
    assert not explainable("SELECT 1; SELECT 2")


def test_samples_group_queries_that_differ_only_in_literals() -> None:
    first = [
        ("SELECT * FROM orders WHERE customer_id = 1", 80.0),
        ("SELECT pg_sleep(5)", 900.0),
    ]
    second = [("SELECT * FROM orders WHERE customer_id = 22", 150.0)]
    third = [("SELECT * FROM orders  WHERE customer_id = 3", 40.0)]
    ranked = rank_samples([first, second, third])
    assert [(query.seen, query.longest_ms) for query in ranked] == [(3, 150.0), (1, 900.0)]
    assert ranked[0].text == "SELECT * FROM orders WHERE customer_id = 22"
    assert fingerprint(first[0][0]) == fingerprint(second[0][0])


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
    return port


def make_investigator(dsn: str, **options: Any) -> PostgresIndexInvestigator[Finding]:
    return PostgresIndexInvestigator(dsn, finding=Finding, **options)


async def test_a_refused_connection_is_no_finding_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    investigator = make_investigator(
        f"postgresql://nobody@127.0.0.1:{closed_port()}/db", samples=1, timeout_s=5.0
    )
    assert await investigator.investigate([]) is None
    assert "index investigation on postgres failed" in caplog.text


@dataclass(frozen=True)
class Seen:
    component: str
    kind: str


async def test_it_stays_out_of_incidents_about_other_databases() -> None:
    # an unreachable DSN would log a failure: no log means it did not even connect
    investigator = make_investigator(
        f"postgresql://nobody@127.0.0.1:{closed_port()}/db", target="shop-db", samples=1
    )
    observations = [Seen("other-db", "database"), Seen("shop", "platform")]
    assert not investigator._concerns(observations)
    assert investigator._concerns([Seen("shop-db", "database")])
    assert investigator._concerns([Seen("shop", "platform")])  # no database named: look
    assert await investigator.investigate(observations) is None


def test_it_is_an_investigator_of_the_add_index_strategy() -> None:
    investigator: Investigator = make_investigator("postgresql://127.0.0.1/db")
    assert investigator.strategy == "add_index"
    observation = Observation(
        ts=datetime(2026, 1, 5, tzinfo=UTC),
        metric="db_slow_queries",
        series="SlowQueries{target=shop-db}",
        component="shop-db",
        score=10.0,
        source="alert",
    )
    assert observation.kind == "database"  # what _concerns reads


@pytest.mark.parametrize(
    "options",
    [{"samples": 0}, {"interval_s": -1.0}, {"min_rows": float("nan")}, {"timeout_s": 0.0}],
)
def test_bad_limits_are_refused(options: Mapping[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_investigator("postgresql://127.0.0.1/db", **options)
