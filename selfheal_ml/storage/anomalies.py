"""Anomaly scores and raised anomalies in DuckDB, plus the detector-bank snapshot cache.

Scores are appended in bulk (one appender statement per collection round); anomalies are few
and carry their explanation (one Arrow batch per round). A snapshot of the detector bank is
only a cache stamped with a version: the metric history is the source of truth, and a bank
whose snapshot is missing or stale is re-warmed from it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from selfheal_ml.storage.database import Database

if TYPE_CHECKING:  # imported by the functions that use them: the API reads without them
    import pyarrow as pa


@functools.cache
def event_schema() -> pa.Schema:
    """The columns of ``anomaly_events``, in table order (one Arrow batch per round)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("event_id", pa.string()),
            ("series", pa.string()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("value", pa.float64()),
            ("calibrated", pa.float64()),
            ("expected_low", pa.float64()),
            ("expected_high", pa.float64()),
            ("component", pa.string()),
            ("correlation_id", pa.string()),
        ]
    )


@dataclass(frozen=True)
class ScoredPoint:
    """One scored observation."""

    series: str
    ts: datetime
    value: float
    score: float
    calibrated: float
    is_anomaly: bool
    expected_low: float | None
    expected_high: float | None


ScoreRow = tuple[str, datetime, float, float, float, bool, float | None, float | None]
"""A :class:`ScoredPoint` as a plain tuple in the column order of ``anomaly_scores`` (the hot
path's form)."""


@dataclass(frozen=True)
class AnomalyRecord:
    """One raised anomaly, as listed by ``GET /v1/anomalies``."""

    event_id: str
    series: str
    ts: datetime
    value: float
    calibrated: float
    expected_low: float | None
    expected_high: float | None
    component: str
    correlation_id: str


class AnomalyStore:
    """Reads and writes the anomaly tables.

    It also remembers the newest score of each series scored in this process
    (:meth:`note_latest`), so that :meth:`latest_scores` sees a round that a batching writer
    has not flushed yet (virtual-time replays write an hour at a time).
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._latest: dict[str, ScoreRow] = {}

    def note_latest(self, rows: Sequence[ScoreRow]) -> None:
        """Remember each series' newest row of a scored round (before it is written)."""
        latest = self._latest
        for row in rows:
            latest[row[0]] = row

    def append_scores(self, points: Sequence[ScoredPoint]) -> int:
        """Append scored points in one batch."""
        return self.append_score_rows(
            [
                (p.series, p.ts, p.value, p.score, p.calibrated, p.is_anomaly, p.expected_low,
                 p.expected_high)
                for p in points
            ]
        )  # fmt: skip

    def append_score_rows(self, rows: Sequence[ScoreRow]) -> int:
        """Append scored points given as :data:`ScoreRow` tuples, in one statement.

        The Predictive agent's path, once per round: a tuple per point is much cheaper to
        build than a :class:`ScoredPoint`, and the tuples go to DuckDB's appender as they are
        (:meth:`Database.append`), with neither an Arrow table to build nor a transaction
        around one statement: at 150 series that halved the write's CPU (issue 20).
        """
        return self.database.append("anomaly_scores", rows)

    def record_anomalies(self, anomalies: Sequence[AnomalyRecord]) -> None:
        """Store raised anomalies, in one Arrow batch (a storm round raises thousands: row by
        row, ``executemany`` took seconds)."""
        import pyarrow as pa

        if not anomalies:
            return
        columns = {
            "event_id": [a.event_id for a in anomalies],
            "series": [a.series for a in anomalies],
            "ts": [a.ts for a in anomalies],
            "value": [a.value for a in anomalies],
            "calibrated": [a.calibrated for a in anomalies],
            "expected_low": [a.expected_low for a in anomalies],
            "expected_high": [a.expected_high for a in anomalies],
            "component": [a.component for a in anomalies],
            "correlation_id": [a.correlation_id for a in anomalies],
        }
        table = pa.table(columns, schema=event_schema())
        with self.database.transaction() as conn:
            conn.from_arrow(table).insert_into("anomaly_events")

    def recent(self, limit: int = 100, series: str | None = None) -> list[AnomalyRecord]:
        """The newest anomalies first, optionally for one series."""
        where, parameters = ("WHERE series = ?", [series]) if series else ("", [])
        with self.database.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM anomaly_events {where} ORDER BY ts DESC LIMIT ?",
                [*parameters, limit],
            ).fetchall()
        return [AnomalyRecord(*row) for row in rows]

    def scores(self, series: str, start: datetime, end: datetime) -> list[ScoredPoint]:
        """Scores of one series in ``[start, end)``, oldest first (for plots)."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT * FROM anomaly_scores WHERE series = ? AND ts >= ? AND ts < ? ORDER BY ts",
                [series, start, end],
            ).fetchall()
        return [ScoredPoint(*row) for row in rows]

    def latest_scores(
        self, series_list: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, ScoredPoint]:
        """The newest score in ``[since, until]`` of each of ``series_list`` that has one: the
        round noted in this process if it is in the window, else the stored rows."""
        found = {
            series: ScoredPoint(*row) for series, row in self._noted(series_list, since, until)
        }
        missing = [series for series in series_list if series not in found]
        if not missing:
            return found
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT * FROM anomaly_scores WHERE list_contains(?::VARCHAR[], series)"
                " AND ts >= ? AND ts <= ?"
                " QUALIFY row_number() OVER (PARTITION BY series ORDER BY ts DESC) = 1",
                [missing, since, until],
            ).fetchall()
        return found | {str(row[0]): ScoredPoint(*row) for row in rows}

    def values(
        self, series_list: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, float]]]:
        """The ``(ts, value)`` of each of ``series_list`` in ``[start, end]``, oldest first:
        the stored rows, in one query, then the round noted in this process when it is newer
        (a series with none is absent)."""
        found: dict[str, list[tuple[datetime, float]]] = {}
        if not series_list:
            return found
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT series, ts, value FROM anomaly_scores"
                " WHERE list_contains(?::VARCHAR[], series) AND ts >= ? AND ts <= ?"
                " ORDER BY series, ts",
                [list(series_list), start, end],
            ).fetchall()
        for series, ts, value in rows:
            found.setdefault(str(series), []).append((ts, float(value)))
        for series, noted in self._noted(series_list, start, end):
            points = found.setdefault(series, [])
            if not points or points[-1][0] < noted[1]:
                points.append((noted[1], noted[2]))
        return found

    def _noted(
        self, series_list: Sequence[str], start: datetime, end: datetime
    ) -> list[tuple[str, ScoreRow]]:
        """The round noted in this process (:meth:`note_latest`) of each series, when it lies
        in ``[start, end]``."""
        return [
            (series, row)
            for series in series_list
            if (row := self._latest.get(series)) is not None and start <= row[1] <= end
        ]

    def save_snapshot(self, name: str, version: int, saved_at: datetime, blob: bytes) -> None:
        """Replace the cached snapshot ``name``."""
        with self.database.transaction() as conn:
            conn.execute("DELETE FROM detector_snapshots WHERE name = ?", [name])
            conn.execute(
                "INSERT INTO detector_snapshots VALUES (?, ?, ?, ?)",
                [name, version, saved_at, blob],
            )

    def load_snapshot(self, name: str) -> tuple[int, bytes] | None:
        """The cached snapshot ``name`` as (version, blob), if any."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT version, blob FROM detector_snapshots WHERE name = ?", [name]
            ).fetchall()
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None
