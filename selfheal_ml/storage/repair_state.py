"""Durable repair state: approvals, executions, circuit breakers and the Repair agent's cases.

The safety guard, the approval book and the Repair agent decide in memory; this store keeps a
copy of what they would lose on a crash (migration ``010_repair_state.sql``), so that after a
``kill -9`` a pending approval can still be answered, an executed repair is still verified,
and cooldowns, rate limits and breakers hold where they were. Every write is one transaction
(durable once the method returns); every read is what a starting service needs.

The store speaks plain rows: requests, answers and cases travel as JSON-ready dicts, encoded
by their owners (:mod:`selfheal_ml.actions.journal`, :mod:`selfheal_ml.repair.case_record`).

>>> from datetime import UTC, datetime
>>> from selfheal_ml.storage.database import Database
>>> store = RepairStateStore(Database(":memory:"))
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> store.save_breaker("shop-db", 3, now, now)
>>> [(row.target, row.failures, row.opened_at == now) for row in store.breakers()]
[('shop-db', 3, True)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selfheal_ml.storage.database import Database

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ApprovalRow:
    """One request that waited (or waits) for a person."""

    approval_id: str
    requested_at: datetime
    expires_at: datetime
    state: str
    request: JsonObject
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    answer: JsonObject | None = None


@dataclass(frozen=True)
class ExecutionRow:
    """One executed repair; ``outcome`` is ``None`` until it is verified."""

    attempt_id: str
    target: str
    platform: str
    started_at: datetime
    request: JsonObject
    finished_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class BreakerRow:
    """The circuit breaker of one target."""

    target: str
    failures: int
    opened_at: datetime | None


def _loads(text: str | None) -> JsonObject | None:
    return None if text is None else dict(json.loads(text))


class RepairStateStore:
    """Read and write the durable repair state in one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # ---- approvals ------------------------------------------------------------------------
    def save_approval(self, row: ApprovalRow) -> None:
        """Insert or replace an approval (its state moved)."""
        answer = None if row.answer is None else json.dumps(row.answer)
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO repair_approvals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row.approval_id, row.requested_at, row.expires_at, row.state,
                    row.resolved_by, row.resolved_at, json.dumps(row.request), answer,
                ],
            )  # fmt: skip

    def approvals(self, *, pending: bool, limit: int = 1000) -> list[ApprovalRow]:
        """Pending approvals (all, oldest first) or resolved ones (the ``limit`` newest)."""
        where = "state = 'pending'" if pending else "state <> 'pending'"
        order = "requested_at" if pending else "coalesce(resolved_at, requested_at) DESC"
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT approval_id, requested_at, expires_at, state, request, resolved_by,"
                f" resolved_at, answer FROM repair_approvals WHERE {where} ORDER BY {order}"
                " LIMIT ?",
                [limit if not pending else 2**31 - 1],
            ).fetchall()
        return [
            ApprovalRow(a, r, e, s, _loads(q) or {}, by, at, _loads(answer))
            for a, r, e, s, q, by, at, answer in rows
        ]

    # ---- executions -----------------------------------------------------------------------
    def save_execution(self, row: ExecutionRow) -> None:
        """Note an executed repair (before its executor runs)."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO repair_executions VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    row.attempt_id, row.target, row.platform, row.started_at, row.finished_at,
                    row.outcome, json.dumps(row.request),
                ],
            )  # fmt: skip

    def finish_execution(self, attempt_id: str, outcome: str, finished_at: datetime) -> None:
        """Record the verified outcome of an executed repair."""
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE repair_executions SET outcome = ?, finished_at = ? WHERE attempt_id = ?",
                [outcome, finished_at, attempt_id],
            )

    def executions(self, *, started_after: datetime) -> list[ExecutionRow]:
        """Executions started after ``started_after`` plus every unverified one, oldest
        first: what rebuilds the guard's windows and its repairs in flight."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT attempt_id, target, platform, started_at, request, finished_at, outcome"
                " FROM repair_executions WHERE started_at > ? OR outcome IS NULL"
                " ORDER BY started_at",
                [started_after],
            ).fetchall()
        return [ExecutionRow(a, t, p, s, _loads(q) or {}, f, o) for a, t, p, s, q, f, o in rows]

    def close_unjournalled(self, finished_at: datetime) -> int:
        """Close executed audit rows with no execution row (the crash came between the two
        writes, before the executor ran; or they predate this table) as ``unknown``: nobody
        can verify them. Returns how many."""
        with self.database.transaction() as conn:
            rows = conn.execute(
                "UPDATE repair_audit SET outcome = 'unknown', finished_at = ?"
                " WHERE decision = 'executed' AND outcome IS NULL AND attempt_id NOT IN"
                " (SELECT attempt_id FROM repair_executions) RETURNING attempt_id",
                [finished_at],
            ).fetchall()
        return len(rows)

    def execution_outcome(self, attempt_id: str) -> str | None:
        """The recorded outcome of an executed repair (``None``: unknown id or unverified)."""
        with self.database.read() as conn:
            row = conn.execute(
                "SELECT outcome FROM repair_executions WHERE attempt_id = ?", [attempt_id]
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    # ---- breakers -------------------------------------------------------------------------
    def save_breaker(
        self, target: str, failures: int, opened_at: datetime | None, ts: datetime
    ) -> None:
        """The breaker of ``target`` as it now stands (0 failures, not open: closed)."""
        with self.database.transaction() as conn:
            if failures == 0 and opened_at is None:
                conn.execute("DELETE FROM repair_breakers WHERE target = ?", [target])
                return
            conn.execute(
                "INSERT OR REPLACE INTO repair_breakers VALUES (?, ?, ?, ?)",
                [target, failures, opened_at, ts],
            )

    def breakers(self) -> list[BreakerRow]:
        """Every target whose breaker counts failures or is open."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT target, failures, opened_at FROM repair_breakers ORDER BY target"
            ).fetchall()
        return [BreakerRow(str(t), int(f), o) for t, f, o in rows]

    # ---- the Repair agent's cases ---------------------------------------------------------
    def save_case(
        self, incident_id: str, state: str, finished: bool, body: JsonObject, ts: datetime
    ) -> None:
        """Insert or replace the case of ``incident_id``."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO repair_cases VALUES (?, ?, ?, ?, ?)",
                [incident_id, state, finished, json.dumps(body), ts],
            )

    def open_cases(self) -> list[JsonObject]:
        """The bodies of every unfinished case, oldest update first."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT body FROM repair_cases WHERE NOT finished ORDER BY updated_at"
            ).fetchall()
        return [dict(json.loads(row[0])) for row in rows]
