"""Cumulative statistics become the window's figures; a plan's scan gives the selectivity."""

from __future__ import annotations

from dataclasses import replace

from selfheal_ml.collectors.index_trials import quote_identifier, scan_rows
from selfheal_ml.collectors.postgres_analysis import (
    AnalysisResult,
    PostgresAnalyser,
    _statement_window,
    _table_window,
    scanned_tables,
    wants_sampling,
)
from selfheal_ml.performance import (
    Finding,
    PerformanceThresholds,
    Snapshot,
    StatementStats,
    TableStats,
    fingerprint,
)


def test_statement_window_subtracts_and_merges_one_fingerprint() -> None:
    first = {1: ("SELECT * FROM t WHERE a = $1", 100, 1000.0)}
    last = {
        1: ("SELECT * FROM t WHERE a = $1", 150, 1600.0),
        2: ("select * from t where a = $1 /* other role */", 10, 200.0),
        3: ("SELECT 1", 5, 1.0),  # reset since: fewer calls than before is skipped
    }
    first[3] = ("SELECT 1", 9, 2.0)
    [merged] = _statement_window(first, last)
    assert merged.fingerprint == fingerprint("SELECT * FROM t WHERE a = 1")
    assert (merged.calls, merged.mean_ms) == (60, 800.0 / 60)


def test_table_window_counts_scans_of_the_window_only() -> None:
    before = {("public", "t"): TableStats("public", "t", 1e5, 10, 1_000_000, 3)}
    after = {
        ("public", "t"): TableStats("public", "t", 1e5, 14, 1_400_000, 3),
        ("public", "new"): TableStats("public", "new", 50, 2, 100, 0),
    }
    window = {table.table: table for table in _table_window(before, after)}
    assert (window["t"].sequential_scans, window["t"].sequential_rows_read) == (4, 400_000)
    assert window["new"].sequential_scans == 2  # created during the window
    first_round = {table.table: table for table in _table_window(None, after)}
    assert first_round["t"].sequential_scans == 0  # no window yet


def test_scan_rows_reads_the_filtered_scan_of_the_table() -> None:
    plan = [
        {
            "Plan": {
                "Node Type": "Hash Join",
                "Total Cost": 10.0,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "a",
                        "Schema": "public",
                        "Plan Rows": 7,
                    },
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "b",
                        "Schema": "public",
                        "Plan Rows": 900,
                    },
                ],
            }
        }
    ]
    assert scan_rows(plan, "public", "a") == 7.0
    assert scan_rows(plan, "public", "c") is None
    assert quote_identifier('we"ird') == '"we""ird"'


def result(findings: list[Finding], source: str, calls: tuple[int, ...]) -> AnalysisResult:
    statements = tuple(
        StatementStats(f"f{n}", "SELECT 1", count, 1.0) for n, count in enumerate(calls)
    )
    return AnalysisResult(
        findings,
        Snapshot(window_s=300, statements=statements),
        source,
        hypopg=False,
        queries=4,
        samples=0,
    )


def test_agent_rounds_sample_by_themselves_only_for_a_pending_query_problem() -> None:
    quiet = result([], "pg_stat_statements", (10, 12, 9, 11))
    assert not wants_sampling(quiet)
    assert wants_sampling(result([Finding(kind="slow_query")], "pg_stat_statements", (10,)))
    assert wants_sampling(result([Finding(kind="n_plus_one")], "sampling", ()))
    # sampling being the only source of query figures is no longer a reason by itself
    assert not wants_sampling(result([], "sampling", ()))
    # index, cache and connection findings stay open without any sampling
    assert not wants_sampling(result([Finding(kind="unused_index")], "sampling", ()))
    assert wants_sampling(result([], "pg_stat_statements", (10, 12, 9, 2400)))  # a loop?


def test_only_big_tables_scanned_sequentially_are_index_candidates_to_examine() -> None:
    snapshot = Snapshot(
        window_s=300,
        tables=(
            TableStats("public", "big", 50_000, 12, 600_000, 0),
            TableStats("public", "big_by_index", 50_000, 0, 0, 400),
            TableStats("public", "small", 900, 40, 36_000, 0),
        ),
    )
    assert scanned_tables(snapshot, PerformanceThresholds()) == {("public", "big")}


def test_a_burst_examines_the_table_that_asked_for_it_even_if_its_window_shows_no_scan() -> None:
    """The server publishes scan counts up to a second late: a burst's window may show none."""
    analyser = PostgresAnalyser("postgresql://unused")
    unscanned = result([], "sampling", ())
    big = TableStats("public", "big", 50_000, 3, 150_000, 0)
    scanned = replace(unscanned, snapshot=Snapshot(window_s=300, tables=(big,)))
    assert analyser._wants_burst(scanned, examined=False)  # big table scanned: burst next
    assert not analyser._wants_burst(unscanned, examined=True)  # the burst saw no scan
    assert not analyser._wants_burst(scanned, examined=False)  # yet the table is examined
