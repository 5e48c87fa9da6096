"""Index rules: which indexes are missing, never used, or duplicated.

A **missing index** needs three facts, as Dexter asks for them: the table was read
sequentially during the window and is big (``min_table_rows``); a query of the window filters
it on columns no existing index leads with (:func:`index_candidates`, from the parsed
``WHERE``); and the planner agrees, i.e. its generic plan expects the filter to keep few rows
(``max_selectivity``) and, when HypoPG is installed, a hypothetical index on those columns cuts
the plan's cost by ``min_cost_saving`` or more (the adapter's :class:`IndexTrial`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.normalise import filter_columns
from selfheal_ml.performance.statistics import (
    IndexStats,
    IndexTrial,
    Snapshot,
    StatementStats,
    TableStats,
)
from selfheal_ml.performance.thresholds import PerformanceThresholds


@dataclass(frozen=True)
class IndexCandidate:
    """A query whose filter on a big, sequentially scanned table no index leads with."""

    statement: StatementStats
    schema: str
    table: str
    columns: tuple[str, ...]


def _qualified(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def _leading_columns(indexes: Iterable[IndexStats], schema: str, table: str) -> set[str]:
    return {
        index.columns[0]
        for index in indexes
        if index.schema == schema and index.table == table and index.columns and index.valid
    }


def index_candidates(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[IndexCandidate]:
    """The (query, table, columns) an index may serve, most time-consuming query first."""
    tables = {(table.schema, table.table): table for table in snapshot.tables}
    found: dict[tuple[str, str, tuple[str, ...]], IndexCandidate] = {}
    for statement in sorted(snapshot.statements, key=lambda item: -item.total_ms):
        for columns in filter_columns(statement.query):
            schema = columns.schema or "public"
            table = tables.get((schema, columns.table))
            if table is None or not _scanned_big(table, thresholds):
                continue
            wanted = columns.index_columns
            if not wanted or wanted[0] in _leading_columns(snapshot.indexes, schema, table.table):
                continue
            key = (schema, table.table, wanted)
            found.setdefault(key, IndexCandidate(statement, schema, table.table, wanted))
    return list(found.values())


def _scanned_big(table: TableStats, thresholds: PerformanceThresholds) -> bool:
    return (
        table.live_rows >= thresholds.min_table_rows
        and table.sequential_scans >= thresholds.min_sequential_scans
    )


def _confirmed(trial: IndexTrial, thresholds: PerformanceThresholds) -> bool:
    if trial.selectivity > thresholds.max_selectivity:
        return False
    if trial.cost_after is None:
        return True
    return trial.cost_after <= (1.0 - thresholds.min_cost_saving) * trial.cost_before


def missing_indexes(snapshot: Snapshot, thresholds: PerformanceThresholds) -> list[Finding]:
    """One finding per (table, columns) whose candidate the planner confirmed."""
    trials = {(t.fingerprint, t.schema, t.table, t.columns): t for t in snapshot.trials}
    tables = {(table.schema, table.table): table for table in snapshot.tables}
    findings: dict[tuple[str, str, tuple[str, ...]], Finding] = {}
    for candidate in index_candidates(snapshot, thresholds):
        statement = candidate.statement
        key = (statement.fingerprint, candidate.schema, candidate.table, candidate.columns)
        trial = trials.get(key)
        if trial is None or not _confirmed(trial, thresholds):
            continue
        if key[1:] in findings:
            continue
        table = tables[(candidate.schema, candidate.table)]
        name = _qualified(candidate.schema, candidate.table)
        column_list = ", ".join(candidate.columns)
        evidence: dict[str, float | int | str | None] = {
            "live_rows": table.live_rows,
            "sequential_scans": table.sequential_scans,
            "sequential_rows_read": table.sequential_rows_read,
            "estimated_selectivity": round(trial.selectivity, 6),
            "plan_cost": round(trial.cost_before, 2),
            "plan_cost_with_index": None
            if trial.cost_after is None
            else round(trial.cost_after, 2),
            "confirmed_by": "hypopg" if trial.cost_after is not None else "generic plan",
            "statistics_source": statement.source,
        }
        findings[key[1:]] = Finding(
            kind="missing_index",
            summary=(
                f"{name} ({table.live_rows:.0f} rows) is scanned sequentially"
                f" {table.sequential_scans} times for a filter on {column_list}"
                f" that keeps ~{trial.selectivity:.2%} of its rows"
            ),
            table=name,
            columns=candidate.columns,
            fingerprint=statement.fingerprint,
            query=statement.query,
            mean_ms=statement.mean_ms,
            calls=statement.calls,
            evidence=evidence,
            recommendation=f"CREATE INDEX CONCURRENTLY ON {name} ({column_list})",
        )
    return list(findings.values())


def _covers(redundant: IndexStats, other: IndexStats) -> bool:
    """Whether ``other`` serves every lookup ``redundant`` serves (same leading columns)."""
    same_kind = (
        redundant.table == other.table
        and redundant.schema == other.schema
        and redundant.method == other.method
        and not redundant.partial
        and not other.partial
        and redundant.valid
        and other.valid
        and bool(redundant.columns)
    )
    return same_kind and other.columns[: len(redundant.columns)] == redundant.columns


def _redundant_pairs(indexes: Sequence[IndexStats]) -> list[tuple[IndexStats, IndexStats]]:
    pairs: list[tuple[IndexStats, IndexStats]] = []
    reported: set[str] = set()
    for index in indexes:
        if index.unique or index.primary or index.constraint:
            continue  # it enforces something: never redundant
        for other in indexes:
            if other.index == index.index or other.index in reported:
                continue
            if not _covers(index, other):
                continue
            equal = other.columns == index.columns
            plain_pair = equal and not (other.unique or other.primary or other.constraint)
            if plain_pair and index.scans > other.scans:
                continue  # of two equal plain indexes, the less used one is the redundant one
            if plain_pair and other.scans == index.scans and other.index > index.index:
                continue
            pairs.append((index, other))
            reported.add(index.index)
            break
    return pairs


def duplicate_indexes(snapshot: Snapshot) -> list[Finding]:
    """Indexes whose leading columns another index of the same table already covers."""
    findings = []
    for redundant, covering in _redundant_pairs(snapshot.indexes):
        name = _qualified(redundant.schema, redundant.table)
        findings.append(
            Finding(
                kind="duplicate_index",
                summary=(
                    f"{redundant.index} ({', '.join(redundant.columns)}) is covered by"
                    f" {covering.index} ({', '.join(covering.columns)})"
                ),
                table=name,
                columns=redundant.columns,
                index=redundant.index,
                evidence={
                    "covered_by": covering.index,
                    "covered_by_columns": ", ".join(covering.columns),
                    "scans": redundant.scans,
                    "covered_by_scans": covering.scans,
                    "size_bytes": redundant.size_bytes,
                },
                recommendation=_drop(redundant, "no query needs it"),
            )
        )
    return findings


def _drop(index: IndexStats, check: str) -> str:
    statement = f"DROP INDEX CONCURRENTLY {_qualified(index.schema, index.index)}"
    return f"{statement} (after checking {check}; never applied automatically)"


def unused_indexes(snapshot: Snapshot) -> list[Finding]:
    """Indexes never scanned since the statistics reset that enforce nothing; indexes of a
    redundant pair are reported once, as the duplicate."""
    paired = {index.index for pair in _redundant_pairs(snapshot.indexes) for index in pair}
    findings = []
    for index in snapshot.indexes:
        enforces = index.unique or index.primary or index.constraint
        if index.scans > 0 or enforces or not index.valid or index.index in paired:
            continue
        name = _qualified(index.schema, index.table)
        findings.append(
            Finding(
                kind="unused_index",
                summary=f"{index.index} on {name} was never scanned ({index.size_bytes} bytes)",
                table=name,
                columns=index.columns or None,
                index=index.index,
                evidence={"scans": index.scans, "size_bytes": index.size_bytes},
                recommendation=_drop(index, "replicas and rare jobs do not use it"),
            )
        )
    return findings
