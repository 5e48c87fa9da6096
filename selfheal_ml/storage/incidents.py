"""The incident history: incidents, their signals, repair attempts, playbooks (DuckDB).

One query API shared by the Learning agent, the API and the notebook. An incident row holds its
timings (``started_at`` first symptom, ``opened_at`` detection, ``closed_at``), platforms,
severity, status, root cause, signature, features and the strategy that resolved it
(``resolved_by``: the training label). Each repair attempt (strategy, action, target, who
approved it, verified outcome) is one row of ``incident_repairs``; the per-signature
playbooks (attempts and successes per strategy) live in ``repair_playbooks`` and so survive
restarts. Bulk loads (simulated histories) go in as DataFrames in one transaction each.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.storage.database import Database
>>> store = IncidentStore(Database(":memory:"))
>>> store.update_playbook("sig", "clear_cache", worked=True, ts=datetime(2026, 1, 5, tzinfo=UTC))
PlaybookEntry(signature='sig', strategy='clear_cache', attempts=1, successes=1)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from selfheal_ml.events import new_id
from selfheal_ml.lifecycle import Diagnosis, IncidentStatus
from selfheal_ml.repair.features import FEATURE_NAMES, feature_frame, incident_features
from selfheal_ml.repair.incident import IncidentRecord, incident_signature
from selfheal_ml.repair.playbook import PlaybookEntry
from selfheal_ml.storage.database import Database

if TYPE_CHECKING:  # imported by the functions that use them: the API reads without them
    import pandas as pd

_INCIDENT_COLUMNS = (
    "incident_id, opened_at, closed_at, platforms, severity, status, root_cause, details,"
    " started_at, signature, features, resolved_by, source, time_to_detect_s, time_to_repair_s"
)


@dataclass(frozen=True)
class RepairAttemptRecord:
    """One repair attempt and its verified outcome."""

    ts: datetime
    strategy: str
    action: str
    target: str
    approved_by: str
    outcome: str  # worked | did_not_work | unknown
    verified_at: datetime | None = None


@dataclass(frozen=True)
class HistoryIncident:
    """A whole incident as it goes into (and comes out of) the history."""

    incident_id: str
    started_at: datetime | None
    opened_at: datetime
    closed_at: datetime | None
    platforms: tuple[str, ...]
    severity: str
    status: str
    root_cause: str | None
    record: IncidentRecord
    attempts: tuple[RepairAttemptRecord, ...] = ()
    resolved_by: str | None = None
    source: str = "live"
    signature: str = ""
    features: dict[str, float] = field(default_factory=dict)


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _incident_row(item: HistoryIncident) -> dict[str, Any]:
    features = item.features or (incident_features(item.record) if item.record.signals else None)
    return {
        "incident_id": item.incident_id,
        "opened_at": item.opened_at,
        "closed_at": item.closed_at,
        "platforms": list(item.platforms),
        "severity": item.severity,
        "status": item.status,
        "root_cause": item.root_cause,
        "details": json.dumps(item.record.details),
        "started_at": item.started_at,
        "signature": item.signature or incident_signature(item.record),
        "features": None if features is None else json.dumps(features),
        "resolved_by": item.resolved_by,
        "source": item.source,
        "time_to_detect_s": _seconds(item.opened_at, item.started_at),
        "time_to_repair_s": _seconds(item.closed_at, item.opened_at) if item.resolved_by else None,
    }


_SIGNAL_COLUMNS = ["incident_id", "kind", "metric", "platform", "dependency", "status_class"]
_ATTEMPT_COLUMNS = ["attempt_id", "incident_id", "ts", "strategy", "action", "target"]
_ATTEMPT_COLUMNS += ["approved_by", "outcome", "verified_at"]


def _signals_frame(items: Sequence[HistoryIncident]) -> pd.DataFrame:
    import pandas as pd

    rows = [
        (item.incident_id, "anomaly", s.metric, s.platform, s.dependency, s.status_class, s.score)
        for item in items
        for s in item.record.signals
    ]
    frame = pd.DataFrame(rows, columns=[*_SIGNAL_COLUMNS, "score"])
    return frame.astype({"score": "float64"})


def _attempt_row(incident_id: str, a: RepairAttemptRecord) -> list[Any]:
    row: list[Any] = [new_id(), incident_id, a.ts, a.strategy, a.action, a.target]
    row.extend([a.approved_by, a.outcome, a.verified_at])
    return row


def _attempts_frame(items: Sequence[HistoryIncident]) -> pd.DataFrame:
    import pandas as pd

    rows = [_attempt_row(item.incident_id, a) for item in items for a in item.attempts]
    return pd.DataFrame(rows, columns=_ATTEMPT_COLUMNS)


class IncidentStore:
    """Read and write the incident history in one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # ---- writes -------------------------------------------------------------------------
    def append_history(self, items: Sequence[HistoryIncident]) -> int:
        """Write whole incidents (rows, signals, attempts) in one transaction; replaces ids."""
        import pandas as pd

        if not items:
            return 0
        incidents = pd.DataFrame([_incident_row(item) for item in items])
        signals, attempts = _signals_frame(items), _attempts_frame(items)
        ids = pd.DataFrame({"incident_id": [item.incident_id for item in items]})
        with self.database.transaction() as conn:
            conn.register("new_ids", ids)
            for table in ("incidents", "incident_signals", "incident_repairs"):
                conn.execute(f"DELETE FROM {table} WHERE incident_id IN (SELECT * FROM new_ids)")
            conn.register("new_incidents", incidents)
            conn.execute(
                f"INSERT INTO incidents ({_INCIDENT_COLUMNS}) SELECT"
                f" {_INCIDENT_COLUMNS} FROM new_incidents"
            )
            if len(signals):
                conn.register("new_signals", signals)
                conn.execute("INSERT INTO incident_signals SELECT * FROM new_signals")
            if len(attempts):
                conn.register("new_attempts", attempts)
                conn.execute("INSERT INTO incident_repairs SELECT * FROM new_attempts")
            for view in ("new_ids", "new_incidents", "new_signals", "new_attempts"):
                conn.unregister(view)
        return len(items)

    def open_incident(self, item: HistoryIncident) -> None:
        """Create an incident if it is new; a known one keeps its row (first writer wins) but
        gains the signature, features and signals it lacks (e.g. a row another component made)."""
        if self.incident(item.incident_id) is None:
            self.append_history([item])
            return
        row = _incident_row(item)
        if row["features"] is None:
            return
        with self.database.transaction() as conn:
            updated = conn.execute(
                "UPDATE incidents SET signature = ?, features = ? WHERE incident_id = ?"
                " AND features IS NULL RETURNING incident_id",
                [row["signature"], row["features"], item.incident_id],
            ).fetchall()
            if updated:
                signals = _signals_frame([item])
                conn.register("new_signals", signals)
                conn.execute("INSERT INTO incident_signals SELECT * FROM new_signals")
                conn.unregister("new_signals")

    def record_diagnosis(self, item: HistoryIncident, diagnosis: Diagnosis, ts: datetime) -> None:
        """Write one diagnosis revision: the incident row takes its root cause, platforms,
        severity, signature and features (the latest revision wins; a row that is already
        past diagnosis keeps its status), and the revision is kept in ``incident_revisions``."""
        self.open_incident(item)
        row = _incident_row(item)
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE incidents SET root_cause = ?, platforms = ?, severity = ?, details = ?,"
                " signature = ?, features = coalesce(?, features),"
                " status = CASE WHEN status IN ('open', 'opened') THEN 'diagnosed' ELSE status END"
                " WHERE incident_id = ?",
                [
                    item.root_cause, list(item.platforms), item.severity,
                    diagnosis.model_dump_json(), row["signature"], row["features"],
                    item.incident_id,
                ],
            )  # fmt: skip
            conn.execute(
                "INSERT OR REPLACE INTO incident_revisions VALUES (?, ?, ?, ?)",
                [item.incident_id, diagnosis.revision, ts, diagnosis.model_dump_json()],
            )

    def record_status(
        self, incident_id: str, status: IncidentStatus, ts: datetime, reason: str = ""
    ) -> None:
        """Move an incident in its lifecycle; a resolved or recovered one is closed at ``ts``
        (a resolution by a repair is written by :meth:`record_attempt`, which labels it)."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO incident_transitions VALUES (?, ?, ?, ?)",
                [incident_id, ts, str(status), reason],
            )
            conn.execute(
                "UPDATE incidents SET status = ?,"
                " closed_at = CASE WHEN ? THEN coalesce(closed_at, ?) ELSE closed_at END"
                " WHERE incident_id = ? AND status <> 'resolved'",
                [str(status), status.closed, ts, incident_id],
            )

    def revisions(self, incident_id: str) -> list[Diagnosis]:
        """Every diagnosis revision of an incident, oldest first."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT diagnosis FROM incident_revisions WHERE incident_id = ? ORDER BY revision",
                [incident_id],
            ).fetchall()
        return [Diagnosis.model_validate_json(row[0]) for row in rows]

    def transitions(self, incident_ids: Iterable[str]) -> pd.DataFrame:
        """The status changes of the given incidents (``incident_id, ts, status, reason``)."""
        with self.database.read() as conn:
            return conn.execute(
                "SELECT * FROM incident_transitions"
                " WHERE list_contains(?::VARCHAR[], incident_id) ORDER BY ts",
                [sorted(set(incident_ids))],
            ).df()

    def record_attempt(self, incident_id: str, attempt: RepairAttemptRecord) -> str:
        """Append one attempt; a worked attempt closes the incident and labels it."""
        attempt_id = new_id()
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO incident_repairs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    attempt_id,
                    incident_id,
                    attempt.ts,
                    attempt.strategy,
                    attempt.action,
                    attempt.target,
                    attempt.approved_by,
                    attempt.outcome,
                    attempt.verified_at,
                ],
            )
            if attempt.outcome == "worked":
                closed_at = attempt.verified_at or attempt.ts
                conn.execute(
                    "UPDATE incidents SET status = 'resolved', closed_at = ?, resolved_by = ?,"
                    " time_to_repair_s = epoch(?::TIMESTAMPTZ) - epoch(opened_at)"
                    " WHERE incident_id = ?",
                    [closed_at, attempt.strategy, closed_at, incident_id],
                )
        return attempt_id

    def update_playbook(
        self, signature: str, strategy: str, *, worked: bool, ts: datetime
    ) -> PlaybookEntry:
        """Count one verified attempt of ``strategy`` for ``signature``; returns the entry."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT INTO repair_playbooks VALUES (?, ?, 1, ?, ?)"
                " ON CONFLICT (signature, strategy) DO UPDATE SET"
                " attempts = attempts + 1, successes = successes + excluded.successes,"
                " updated_at = excluded.updated_at",
                [signature, strategy, int(worked), ts],
            )
            row = conn.execute(
                "SELECT attempts, successes FROM repair_playbooks"
                " WHERE signature = ? AND strategy = ?",
                [signature, strategy],
            ).fetchone()
        attempts, successes = row if row else (0, 0)
        return PlaybookEntry(signature, strategy, int(attempts), int(successes))

    def set_state(self, name: str, value: str, ts: datetime) -> None:
        """Remember a small learning watermark."""
        with self.database.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO learning_state VALUES (?, ?, ?)", [name, value, ts]
            )

    # ---- reads --------------------------------------------------------------------------
    def state(self, name: str) -> str | None:
        """A learning watermark, or ``None``."""
        with self.database.read() as conn:
            row = conn.execute("SELECT value FROM learning_state WHERE name = ?", [name]).fetchone()
        return None if row is None else str(row[0])

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """One incident row as a dict, or ``None``."""
        with self.database.read() as conn:
            frame = conn.execute(
                f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE incident_id = ?", [incident_id]
            ).df()
        return None if frame.empty else dict(frame.iloc[0])

    def incidents_frame(self, source: str | None = None) -> pd.DataFrame:
        """Every incident (oldest first) with its timings; ``source`` filters live/simulated."""
        where = "" if source is None else "WHERE source = ?"
        with self.database.read() as conn:
            return conn.execute(
                f"SELECT {_INCIDENT_COLUMNS} FROM incidents {where} ORDER BY opened_at",
                [] if source is None else [source],
            ).df()

    def recent_incidents(
        self, limit: int, status: str | Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The ``limit`` newest incidents (newest first), of the given status(es) if any: what
        the API lists, without reading the whole history."""
        wanted = [status] if isinstance(status, str) else list(status or [])
        where = "WHERE list_contains(?::VARCHAR[], status)" if wanted else ""
        with self.database.read() as conn:
            return conn.execute(
                f"SELECT {_INCIDENT_COLUMNS} FROM incidents {where}"
                " ORDER BY opened_at DESC, incident_id LIMIT ?",
                [wanted, limit] if wanted else [limit],
            ).df()

    def attempts_of(self, incident_ids: Iterable[str]) -> pd.DataFrame:
        """The repair attempts of the given incidents, as :meth:`attempts_frame` has them."""
        wanted = sorted(set(incident_ids))
        with self.database.read() as conn:
            return conn.execute(
                "SELECT r.*, i.platforms, i.root_cause, i.signature FROM incident_repairs r"
                " LEFT JOIN incidents i USING (incident_id)"
                " WHERE list_contains(?::VARCHAR[], r.incident_id) ORDER BY r.ts",
                [wanted],
            ).df()

    def attempts_frame(self) -> pd.DataFrame:
        """Every repair attempt joined with its incident's platforms and root cause."""
        with self.database.read() as conn:
            return conn.execute(
                "SELECT r.*, i.platforms, i.root_cause, i.signature FROM incident_repairs r"
                " LEFT JOIN incidents i USING (incident_id) ORDER BY r.ts"
            ).df()

    def signals_frame(self) -> pd.DataFrame:
        """Every anomaly and alert grouped into an incident."""
        with self.database.read() as conn:
            return conn.execute("SELECT * FROM incident_signals").df()

    def featured_incidents(self) -> list[tuple[Any, ...]]:
        """``(incident_id, opened_at, root_cause, resolved_by, status, signature, features)``
        of every incident with features (``features`` as a dict), oldest first: the history
        the Diagnostic agent searches for similar incidents."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT incident_id, opened_at, root_cause, resolved_by, status, signature,"
                " features FROM incidents WHERE features IS NOT NULL ORDER BY opened_at"
            ).fetchall()
        return [(*row[:6], json.loads(row[6])) for row in rows]

    def count_labelled(self, since: datetime | None = None) -> int:
        """How many incidents have a label (optionally, opened after ``since``)."""
        with self.database.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM incidents WHERE resolved_by IS NOT NULL"
                " AND features IS NOT NULL AND (? IS NULL OR opened_at > ?)",
                [since, since],
            ).fetchone()
        return int(row[0]) if row else 0

    def labelled_frame(self) -> tuple[pd.DataFrame, list[str], list[datetime]]:
        """Training data, oldest first: features (:data:`FEATURE_NAMES`), labels, open times."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT features, resolved_by, opened_at FROM incidents"
                " WHERE resolved_by IS NOT NULL AND features IS NOT NULL ORDER BY opened_at"
            ).fetchall()
        features = feature_frame(json.loads(row[0]) for row in rows)
        return features, [str(row[1]) for row in rows], [row[2] for row in rows]

    def playbook(self, signature: str) -> list[PlaybookEntry]:
        """The entries of one signature (unranked)."""
        return [entry for entry in self.playbooks() if entry.signature == signature]

    def playbooks(self) -> list[PlaybookEntry]:
        """Every playbook entry."""
        with self.database.read() as conn:
            rows = conn.execute(
                "SELECT signature, strategy, attempts, successes FROM repair_playbooks"
                " ORDER BY signature, strategy"
            ).fetchall()
        return [PlaybookEntry(str(s), str(t), int(a), int(w)) for s, t, a, w in rows]

    def signature_of(self, incident_id: str) -> str | None:
        """The stored signature of an incident, if any."""
        row = self.incident(incident_id)
        value = None if row is None else row.get("signature")
        return value if isinstance(value, str) else None


__all__ = ["FEATURE_NAMES", "HistoryIncident", "IncidentStore", "RepairAttemptRecord"]
