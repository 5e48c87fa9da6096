"""Security findings and ban decisions in DuckDB (tables from ``008_security.sql``).

Every decision is kept, refusals and dry-run ones included (the audit trail). On start-up the
ban policy is restored from :meth:`SecurityStore.latest_decisions`: the newest (would-)ban of
each address carries its offence count and, if it has not expired, the ban in force.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.security.ban_policy import BanPolicy
>>> from selfheal_ml.security.findings import Finding, FindingKind, Scope
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> store = SecurityStore(Database(":memory:"))
>>> finding = Finding(FindingKind.BRUTE_FORCE, Scope.IP, "192.0.2.1", at, at, 5, ("line",))
>>> store.append_decisions([BanPolicy().decide(finding)])
1
>>> [(d.value, d.offence) for d in store.latest_decisions()]
[('192.0.2.1', 1)]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from selfheal_ml.events import new_id
from selfheal_ml.security.ban_policy import BanDecision, DecisionAction, Refusal
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.storage.database import Database

_DECISION_COLUMNS = (
    "scope, value, action, reason, refusal, origin, decided_at, duration_s, offence,"
    " first_seen, event_count, evidence"
)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _decision(row: tuple[Any, ...]) -> BanDecision:
    scope, value, action, reason, refusal, origin, decided_at, duration_s, offence = row[:9]
    first_seen, event_count, evidence = row[9:]
    return BanDecision(
        scope=Scope(scope),
        value=value,
        action=DecisionAction(action),
        reason=FindingKind(reason),
        decided_at=_utc(decided_at),
        duration_s=float(duration_s),
        first_seen=_utc(first_seen),
        event_count=int(event_count),
        offence=int(offence),
        refusal=Refusal(refusal) if refusal else None,
        origin=origin,
        evidence=tuple(json.loads(evidence)),
    )


class SecurityStore:
    """Appends and reads the security tables of one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def append_findings(self, findings: Sequence[Finding]) -> int:
        """Store findings; returns how many."""
        rows = [
            (
                new_id(), f.kind.value, f.scope.value, f.value, f.first_seen, f.detected_at,
                f.event_count, json.dumps(list(f.evidence)), f.detail,
            )
            for f in findings
        ]  # fmt: skip
        if rows:
            with self.database.transaction() as conn:
                conn.executemany(
                    "INSERT INTO security_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
        return len(rows)

    def append_decisions(self, decisions: Sequence[BanDecision]) -> int:
        """Store decisions (refusals and dry-run ones too); returns how many."""
        rows = [
            (
                new_id(), d.scope.value, d.value, d.action.value, d.reason.value,
                d.refusal.value if d.refusal else None, d.origin, d.decided_at, d.until,
                d.duration_s, d.offence, d.first_seen, d.event_count,
                json.dumps(list(d.evidence)),
            )
            for d in decisions
        ]  # fmt: skip
        if rows:
            with self.database.transaction() as conn:
                conn.executemany(
                    "INSERT INTO ban_decisions (decision_id, scope, value, action, reason,"
                    " refusal, origin, decided_at, until, duration_s, offence, first_seen,"
                    " event_count, evidence) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        return len(rows)

    def decisions(self, since: datetime | None = None, limit: int = 1000) -> list[BanDecision]:
        """Decisions newest first (optionally only those made at or after ``since``)."""
        query = f"SELECT {_DECISION_COLUMNS} FROM ban_decisions"
        params: list[Any] = []
        if since is not None:
            query += " WHERE decided_at >= ?"
            params.append(since)
        query += " ORDER BY decided_at DESC LIMIT ?"
        with self.database.read() as conn:
            rows = conn.execute(query, [*params, limit]).fetchall()
        return [_decision(row) for row in rows]

    def active_decisions(self, now: datetime) -> list[BanDecision]:
        """(Would-)bans in force at ``now``, newest first."""
        with self.database.read() as conn:
            rows = conn.execute(
                f"SELECT {_DECISION_COLUMNS} FROM ban_decisions"
                " WHERE action <> 'refused' AND decided_at <= ? AND until > ?"
                " ORDER BY decided_at DESC",
                [now, now],
            ).fetchall()
        return [_decision(row) for row in rows]

    def latest_decisions(self) -> list[BanDecision]:
        """The newest (would-)ban of each address: what :meth:`BanPolicy.restore` needs."""
        with self.database.read() as conn:
            rows = conn.execute(
                f"SELECT {_DECISION_COLUMNS} FROM ban_decisions WHERE action <> 'refused'"
                " QUALIFY row_number() OVER (PARTITION BY value ORDER BY decided_at DESC) = 1"
                " ORDER BY value"
            ).fetchall()
        return [_decision(row) for row in rows]

    def findings(self, limit: int = 1000) -> list[Finding]:
        """Findings, newest first."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT kind, scope, value, first_seen, detected_at, event_count, evidence,"
                " detail FROM security_findings ORDER BY detected_at DESC LIMIT ?",
                [limit],
            ).fetchall()
        return [
            Finding(
                kind=FindingKind(kind),
                scope=Scope(scope),
                value=value,
                first_seen=_utc(first_seen),
                detected_at=_utc(detected_at),
                event_count=int(count),
                evidence=tuple(json.loads(evidence)),
                detail=detail,
            )
            for kind, scope, value, first_seen, detected_at, count, evidence, detail in rows
        ]
