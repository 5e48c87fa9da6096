"""Query normalisation through libpg_query: fingerprints, texts, traces, filter columns."""

from __future__ import annotations

from selfheal_ml.performance import filter_columns, fingerprint, trace_id
from selfheal_ml.performance.normalise import normalise


def test_fingerprint_ignores_literals_parameters_comments_and_case() -> None:
    literal = "SELECT id FROM orders WHERE customer_id = 42 AND status = 'open'"
    parameters = "select id from orders where customer_id = $1 and status = $2 /* app */"
    assert fingerprint(literal) == fingerprint(parameters)


def test_fingerprint_separates_queries_on_other_columns_or_tables() -> None:
    base = fingerprint("SELECT id FROM orders WHERE customer_id = 1")
    assert base != fingerprint("SELECT id FROM orders WHERE status = 1")
    assert base != fingerprint("SELECT id FROM invoices WHERE customer_id = 1")


def test_fingerprint_of_a_truncated_text_still_groups_by_shape() -> None:
    cut = "SELECT id FROM orders WHERE customer_id = 42 AND note = 'abc"
    other = "SELECT id FROM orders WHERE customer_id = 7 AND note = 'abc"
    assert fingerprint(cut) == fingerprint(other)
    assert len(fingerprint(cut)) == 16


def test_normalise_replaces_constants_and_drops_comments() -> None:
    text = "SELECT *  FROM t WHERE a = 'x'::text AND b IN (1, 2) -- trailing\n"
    assert normalise(text) == "SELECT * FROM t WHERE a = $1::text AND b IN ($2, $3)"


def test_trace_id_reads_the_sqlcommenter_traceparent() -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    comment = f"/*route='%2Forders',traceparent='00-{trace}-b7ad6b7169203331-01'*/"
    assert trace_id(f"SELECT 1 {comment}") == trace
    assert trace_id("SELECT 1 /* traceparent='not a trace' */") is None


def test_filter_columns_put_equality_first_then_one_range() -> None:
    found = filter_columns(
        "SELECT * FROM events e WHERE e.created_at > $1 AND e.account_id = $2"
        " AND e.kind IN ('a', 'b') AND e.id < 9"
    )
    assert [(f.table, f.index_columns) for f in found] == [
        ("events", ("account_id", "kind", "created_at"))
    ]


def test_filter_columns_resolve_aliases_in_joins_and_skip_unqualified_ones() -> None:
    found = filter_columns(
        "SELECT * FROM orders o JOIN items i ON i.order_id = o.id"
        " WHERE o.customer_id = $1 AND sku = $2 AND $3 <= i.quantity"
    )
    assert {(f.table, f.index_columns) for f in found} == {
        ("orders", ("customer_id",)),
        ("items", ("quantity",)),
    }


def test_filter_columns_ignore_or_functions_and_column_comparisons() -> None:
    assert filter_columns("SELECT * FROM t WHERE a = 1 OR b = 2") == []
    assert filter_columns("SELECT * FROM t WHERE lower(email) = 'x'") == []
    assert filter_columns("SELECT * FROM t WHERE a = b") == []
    assert filter_columns("INSERT INTO t VALUES (1)") == []
    assert filter_columns("not sql at all") == []


def test_filter_columns_of_update_and_delete() -> None:
    [update] = filter_columns("UPDATE s.t SET x = 1 WHERE tenant = $1")
    assert (update.schema, update.table, update.index_columns) == ("s", "t", ("tenant",))
    [delete] = filter_columns("DELETE FROM t WHERE created_at BETWEEN $1 AND $2")
    assert delete.index_columns == ("created_at",)
