"""Missing, unused and duplicate indexes from plain statistics."""

from __future__ import annotations

from dataclasses import replace

from selfheal_ml.performance import (
    IndexStats,
    IndexTrial,
    PerformanceThresholds,
    Snapshot,
    StatementStats,
    TableStats,
    fingerprint,
)
from selfheal_ml.performance.index_rules import (
    duplicate_indexes,
    index_candidates,
    missing_indexes,
    unused_indexes,
)


def table(name: str = "events", rows: float = 50_000, scans: int = 40) -> TableStats:
    return TableStats("public", name, rows, scans, int(rows) * scans, 0)


def index(
    name: str, columns: tuple[str, ...], scans: int = 10, table_name: str = "events", **flags: bool
) -> IndexStats:
    return IndexStats("public", table_name, name, columns, scans, 8192, **flags)


def statement(query: str, calls: int = 100, mean_ms: float = 8.0) -> StatementStats:
    return StatementStats(fingerprint(query), query, calls, mean_ms)


QUERY = "SELECT id FROM events WHERE account_id = $1"
LIMITS = PerformanceThresholds()


def trial(selectivity: float = 0.001, cost_after: float | None = None) -> IndexTrial:
    query = statement(QUERY)
    return IndexTrial(
        query.fingerprint, "public", "events", ("account_id",), selectivity, 1000.0, cost_after
    )


def snapshot(**parts: object) -> Snapshot:
    defaults: dict[str, object] = {"statements": (statement(QUERY),), "tables": (table(),)}
    return Snapshot(window_s=60.0, **{**defaults, **parts})  # type: ignore[arg-type]


def test_a_selective_filter_on_a_big_scanned_table_is_a_missing_index() -> None:
    [finding] = missing_indexes(snapshot(trials=(trial(),)), LIMITS)
    assert (finding.kind, finding.table, finding.columns) == (
        "missing_index",
        "events",
        ("account_id",),
    )
    assert finding.recommendation == "CREATE INDEX CONCURRENTLY ON events (account_id)"
    assert finding.calls == 100 and finding.mean_ms == 8.0
    assert finding.evidence["confirmed_by"] == "generic plan"


def test_no_candidate_when_an_index_already_leads_with_the_column() -> None:
    indexed = snapshot(indexes=(index("events_account_idx", ("account_id", "kind")),))
    assert index_candidates(indexed, LIMITS) == []


def test_no_candidate_on_a_small_or_unscanned_table() -> None:
    assert index_candidates(snapshot(tables=(table(rows=500),)), LIMITS) == []
    assert index_candidates(snapshot(tables=(table(scans=0),)), LIMITS) == []


def test_an_unselective_filter_or_a_small_what_if_gain_is_no_missing_index() -> None:
    assert missing_indexes(snapshot(trials=(trial(selectivity=0.3),)), LIMITS) == []
    assert missing_indexes(snapshot(trials=(trial(cost_after=700.0),)), LIMITS) == []
    [confirmed] = missing_indexes(snapshot(trials=(trial(cost_after=12.0),)), LIMITS)
    assert confirmed.evidence["confirmed_by"] == "hypopg"
    assert confirmed.evidence["plan_cost_with_index"] == 12.0


def test_without_a_trial_nothing_is_proposed() -> None:
    assert missing_indexes(snapshot(), LIMITS) == []


def test_an_index_never_scanned_is_unused_unless_it_enforces_something() -> None:
    indexes = (
        index("events_note_idx", ("note",), scans=0),
        index("events_pkey", ("id",), scans=0, primary=True, unique=True),
        index("events_code_key", ("code",), scans=0, unique=True),
        index("events_kind_idx", ("kind",), scans=3),
    )
    findings = unused_indexes(snapshot(indexes=indexes))
    assert [(f.index, f.evidence["size_bytes"]) for f in findings] == [("events_note_idx", 8192)]
    assert findings[0].recommendation is not None
    assert "never applied automatically" in findings[0].recommendation


def test_an_index_whose_columns_lead_another_is_a_duplicate_reported_once() -> None:
    indexes = (
        index("events_account_idx", ("account_id",), scans=50),
        index("events_account_kind_idx", ("account_id", "kind"), scans=0),
    )
    parts = snapshot(indexes=indexes)
    [duplicate] = duplicate_indexes(parts)
    assert (duplicate.index, duplicate.evidence["covered_by"]) == (
        "events_account_idx",
        "events_account_kind_idx",
    )
    assert unused_indexes(parts) == []  # the unused partner is part of the reported pair


def test_of_two_equal_indexes_the_less_used_is_the_duplicate() -> None:
    indexes = (
        index("events_a_idx", ("account_id",), scans=50),
        index("events_b_idx", ("account_id",), scans=0),
    )
    [duplicate] = duplicate_indexes(snapshot(indexes=indexes))
    assert duplicate.index == "events_b_idx"


def test_unique_partial_and_other_method_indexes_are_not_duplicates() -> None:
    indexes = (
        index("events_account_key", ("account_id",), unique=True),
        index("events_account_kind_idx", ("account_id", "kind")),
        index("events_recent_idx", ("kind",), partial=True),
        index("events_kind_idx", ("kind", "id")),
        index("events_other_idx", ("payload",)),
        replace(index("events_payload_hash", ("payload",)), method="hash"),
    )
    assert duplicate_indexes(snapshot(indexes=indexes)) == []
