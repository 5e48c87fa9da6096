"""The repair audit log: every repair attempt, refusals included, one row each.

The dashboard's ``repairs {total, successRate, active}`` is computed here from the log, so the
figures are always the recorded truth: ``total`` counts executed attempts, ``successRate`` is
the share of finished executed attempts verified as worked (``None`` before the first one), and
``active`` counts executed attempts still awaiting verification. The summary is cached until
this store writes again (the dashboard asked for it on every refresh, behind the agents'
writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from selfheal_ml.events import new_id
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.read_cache import ReadCache


@dataclass(frozen=True)
class RepairSummary:
    """Counts for the dashboard."""

    total: int
    success_rate: float | None
    active: int


@dataclass(frozen=True)
class RepairAttempt:
    """One row of the audit log."""

    attempt_id: str
    ts: datetime
    correlation_id: str
    incident_id: str | None
    action: str
    target: str
    decision: str
    reason: str | None
    outcome: str | None
    finished_at: datetime | None


class RepairAuditStore:
    """Append and read repair attempts in DuckDB."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._summary: ReadCache[str, RepairSummary] = ReadCache(max_entries=1)

    def record(
        self,
        *,
        ts: datetime,
        correlation_id: str,
        action: str,
        target: str,
        decision: str,
        incident_id: str | None = None,
        reason: str | None = None,
    ) -> str:
        """Write one attempt; returns its id."""
        attempt_id = new_id()
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO repair_audit (attempt_id, ts, correlation_id, incident_id, action,"
                " target, decision, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [attempt_id, ts, correlation_id, incident_id, action, target, decision, reason],
            )
        self._summary.invalidate()
        return attempt_id

    def finish(self, attempt_id: str, *, outcome: str, finished_at: datetime) -> None:
        """Record the verified outcome of an attempt."""
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE repair_audit SET outcome = ?, finished_at = ? WHERE attempt_id = ?",
                [outcome, finished_at, attempt_id],
            )
        self._summary.invalidate()

    def attempts(self, limit: int = 100) -> list[RepairAttempt]:
        """The newest attempts first."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT attempt_id, ts, correlation_id, incident_id, action, target, decision,"
                " reason, outcome, finished_at FROM repair_audit ORDER BY ts DESC LIMIT ?",
                [limit],
            ).fetchall()
        return [RepairAttempt(*row) for row in rows]

    def decision_counts(self) -> dict[str, int]:
        """How many audit rows each decision kind has (only the kinds that occur)."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT decision, count(*) FROM repair_audit GROUP BY decision ORDER BY decision"
            ).fetchall()
        return {str(decision): int(count) for decision, count in rows}

    def summary(self) -> RepairSummary:
        """``total``, ``success_rate`` and ``active`` over executed attempts (cached until the
        next write through this store)."""
        return self._summary.get("all", self._summarise)

    def _summarise(self, _: str) -> RepairSummary:
        with self.database.read() as conn:
            row = conn.execute(
                "SELECT count(*),"
                " count(*) FILTER (WHERE outcome = 'worked'),"
                " count(*) FILTER (WHERE outcome IS NOT NULL),"
                " count(*) FILTER (WHERE outcome IS NULL)"
                " FROM repair_audit WHERE decision = 'executed'"
            ).fetchone()
        total, worked, finished, active = row if row else (0, 0, 0, 0)
        rate = worked / finished if finished else None
        return RepairSummary(total=int(total), success_rate=rate, active=int(active))
