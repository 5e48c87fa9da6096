"""All rules over one snapshot: one finding per problem, a clean snapshot gives none."""

from __future__ import annotations

import pytest

from selfheal_ml.performance import (
    Finding,
    IndexStats,
    IndexTrial,
    PerformanceThresholds,
    ServerStats,
    Snapshot,
    StatementStats,
    TableStats,
    analyse,
    fingerprint,
)

SCAN = "SELECT * FROM events WHERE account_id = $1"


def statement(query: str, calls: int, mean_ms: float) -> StatementStats:
    return StatementStats(fingerprint(query), query, calls, mean_ms)


def test_a_slow_query_explained_by_a_missing_index_is_reported_once() -> None:
    slow_scan = statement(SCAN, calls=30, mean_ms=250.0)
    snapshot = Snapshot(
        window_s=60,
        statements=(slow_scan,),
        tables=(TableStats("public", "events", 2e6, 30, int(6e7), 0),),
        trials=(
            IndexTrial(
                slow_scan.fingerprint, "public", "events", ("account_id",), 0.0001, 40_000.0, 8.0
            ),
        ),
    )
    [finding] = analyse(snapshot)
    assert (finding.kind, finding.mean_ms) == ("missing_index", 250.0)


def test_a_clean_snapshot_has_no_findings() -> None:
    snapshot = Snapshot(
        window_s=60,
        statements=(statement("SELECT * FROM customers WHERE id = $1", 500, 0.1),),
        tables=(TableStats("public", "customers", 9_000, 2, 18_000, 500),),
        indexes=(
            IndexStats(
                "public",
                "customers",
                "customers_pkey",
                ("id",),
                500,
                8192,
                unique=True,
                primary=True,
            ),
        ),
        server=ServerStats(
            buffer_hits=99_000, buffer_reads=100, connections=10, max_connections=100
        ),
    )
    assert analyse(snapshot) == []


def test_findings_serialise_with_every_documented_field() -> None:
    record = Finding(kind="slow_query", query="SELECT 1", mean_ms=101.23456, calls=2).as_record()
    assert set(record) >= {
        "kind",
        "table",
        "columns",
        "index",
        "fingerprint",
        "query",
        "mean_ms",
        "calls",
        "evidence",
        "recommendation",
    }
    assert record["mean_ms"] == 101.235 and record["table"] is None


def test_thresholds_refuse_fractions_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="max_selectivity"):
        PerformanceThresholds(max_selectivity=1.5)
