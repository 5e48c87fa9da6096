"""AlertStore: the AlertManager's state in DuckDB (tables from ``002_alerts.sql``).

Alerts, silences, aggregation groups with their flush timers, the per-notifier notification
log and the counters all live here, so a new ``AlertManager`` on the same file resumes where
the old one stopped: same active alerts, same silences, no repeated notifications.

Rows go in and come out as plain dicts keyed by column name (JSON columns decoded, times in
UTC): the storage and alerting packages sit side by side in the layer map and may not import
each other, so the alerting package validates these dicts into its own models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from selfheal_ml.storage.database import Database

if TYPE_CHECKING:  # imported by the functions that use them: the API reads without them
    pass

_ALERT_COLUMNS = (
    "alert_id",
    "fingerprint",
    "labels",
    "annotations",
    "severity",
    "status",
    "starts_at",
    "ends_at",
    "updated_at",
    "generator_url",
    "auto_resolved",
    "in_group",
)
_JSON_COLUMNS = frozenset(
    {"labels", "annotations", "group_labels", "matchers", "firing", "resolved"}
)
# the Arrow type of each alert column that is not a string (pyarrow is imported on first write)
_ARROW_TYPES = {
    "starts_at": "timestamp",
    "ends_at": "timestamp",
    "updated_at": "timestamp",
    "auto_resolved": "bool",
    "in_group": "bool",
}
_UPDATABLE = frozenset({"annotations", "ends_at", "updated_at", "generator_url", "status"})
_SILENCE_COLUMNS = (
    "silence_id",
    "matchers",
    "starts_at",
    "ends_at",
    "created_by",
    "comment",
    "updated_at",
)


def _encode(column: str, value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if column in _JSON_COLUMNS else value


def _decode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _rows(columns: Sequence[str], records: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [
        {column: _decode(column, value) for column, value in zip(columns, record, strict=True)}
        for record in records
    ]


class AlertStore:
    """Typed-by-convention access to the alert tables of one :class:`Database`.

    >>> from datetime import datetime, UTC
    >>> store = AlertStore(Database(":memory:"))
    >>> store.add_counter("total", 2)
    >>> store.counters()["total"]
    2
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- alerts -------------------------------------------------------------------------------

    def insert_alert(self, row: Mapping[str, Any], group: Mapping[str, Any]) -> None:
        """Insert a new alert, count it in ``total`` and create its group if it has none."""
        values = [_encode(column, row[column]) for column in _ALERT_COLUMNS]
        marks = ", ".join("?" for _ in _ALERT_COLUMNS)
        with self.db.transaction() as conn:
            conn.execute(
                f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES ({marks})", values
            )
            self._insert_group(conn, group)
            self._add(conn, "total", 1)

    def write_batch(
        self,
        inserts: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
        changes_by_id: Mapping[str, Mapping[str, Any]],
        resolved_ids: Sequence[str],
        resolved_at: datetime | None,
    ) -> int:
        """A whole ingest in one transaction (one commit, however many alerts).

        In order: insert the new alerts (Arrow scan, not a statement per row) with their
        groups and the ``total`` count; apply ``changes_by_id`` (as :meth:`update_alerts`);
        resolve ``resolved_ids`` at ``resolved_at`` as auto-resolved. Returns how many
        alerts were resolved.
        """
        with self.db.transaction() as conn:
            if inserts:
                self._insert_alert_rows(conn, [row for row, _ in inserts])
                groups = {group["group_key"]: group for _, group in inserts}
                self._insert_group_rows(conn, list(groups.values()))
                self._add(conn, "total", len(inserts))
            for alert_id, changes in changes_by_id.items():
                self._update(conn, alert_id, changes)
            resolved = 0
            if resolved_ids and resolved_at is not None:
                resolved = len(
                    conn.execute(
                        "UPDATE alerts SET status = 'resolved', ends_at = ?, updated_at = ?,"
                        " auto_resolved = true WHERE alert_id IN (SELECT unnest(?))"
                        " AND status = 'firing' RETURNING alert_id",
                        [resolved_at, resolved_at, list(resolved_ids)],
                    ).fetchall()
                )
                if resolved:
                    self._add(conn, "auto_resolved", resolved)
        return resolved

    @staticmethod
    def _insert_alert_rows(conn: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        import pyarrow as pa

        columns = {
            column: [_encode(column, row[column]) for row in rows] for column in _ALERT_COLUMNS
        }
        arrow_types = {
            "timestamp": pa.timestamp("us", tz="UTC"),
            "bool": pa.bool_(),
            "string": pa.string(),
        }
        table = pa.table(
            {
                column: pa.array(values, type=arrow_types[_ARROW_TYPES.get(column, "string")])
                for column, values in columns.items()
            }
        )
        conn.register("selfheal_new_alerts", table)
        try:
            names = ", ".join(_ALERT_COLUMNS)
            conn.execute(f"INSERT INTO alerts ({names}) SELECT {names} FROM selfheal_new_alerts")
        finally:
            conn.unregister("selfheal_new_alerts")

    @staticmethod
    def _insert_group_rows(conn: Any, groups: Sequence[Mapping[str, Any]]) -> None:
        conn.executemany(
            "INSERT INTO alert_groups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                [
                    group["group_key"],
                    _encode("group_labels", group["group_labels"]),
                    group["created_at"],
                    group["next_flush_at"],
                ]
                for group in groups
            ],
        )

    def update_alert(self, alert_id: str, changes: Mapping[str, Any]) -> None:
        """Change some of annotations, ends_at, updated_at, generator_url, status."""
        self.update_alerts({alert_id: changes})

    def update_alerts(self, changes_by_id: Mapping[str, Mapping[str, Any]]) -> None:
        """:meth:`update_alert` for several alerts in one transaction (one commit)."""
        for changes in changes_by_id.values():
            unknown = set(changes) - _UPDATABLE
            if unknown:
                raise ValueError(
                    f"changes: expected columns from {sorted(_UPDATABLE)}, got {unknown}"
                )
        work = [(alert_id, changes) for alert_id, changes in changes_by_id.items() if changes]
        if not work:
            return
        with self.db.transaction() as conn:
            for alert_id, changes in work:
                self._update(conn, alert_id, changes)

    @staticmethod
    def _update(conn: Any, alert_id: str, changes: Mapping[str, Any]) -> None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"changes: expected columns from {sorted(_UPDATABLE)}, got {unknown}")
        if not changes:
            return
        assignments = ", ".join(f"{column} = ?" for column in changes)
        values = [_encode(column, value) for column, value in changes.items()]
        conn.execute(f"UPDATE alerts SET {assignments} WHERE alert_id = ?", [*values, alert_id])

    def resolve_alerts(
        self,
        alert_ids: Sequence[str],
        ends_at: datetime | None,
        updated_at: datetime,
        *,
        auto: bool,
    ) -> int:
        """Mark firing alerts resolved (``ends_at=None`` keeps each one's own end).

        Counts them in ``auto_resolved`` when ``auto``; returns how many changed.
        """
        if not alert_ids:
            return 0
        with self.db.transaction() as conn:
            resolved = conn.execute(
                "UPDATE alerts SET status = 'resolved', ends_at = coalesce(?, ends_at),"
                " updated_at = ?, auto_resolved = ?"
                " WHERE alert_id IN (SELECT unnest(?)) AND status = 'firing' RETURNING alert_id",
                [ends_at, updated_at, auto, list(alert_ids)],
            ).fetchall()
            if auto and resolved:
                self._add(conn, "auto_resolved", len(resolved))
        return len(resolved)

    def firing_alert(self, fingerprint: str) -> dict[str, Any] | None:
        """The firing alert with this fingerprint, if any."""
        found = self._select_alerts("WHERE fingerprint = ? AND status = 'firing'", [fingerprint])
        return found[0] if found else None

    def expired_alerts(self, now: datetime) -> list[dict[str, Any]]:
        """Firing alerts whose ``ends_at`` is at or before ``now``."""
        return self._select_alerts("WHERE status = 'firing' AND ends_at <= ?", [now])

    def grouped_alerts(self) -> list[dict[str, Any]]:
        """Alerts still part of an aggregation group (firing, or resolved but not flushed)."""
        return self._select_alerts("WHERE in_group", [])

    def alerts(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first (by start), optionally only ``firing`` or ``resolved``."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return self._select_alerts(
            f"{where} ORDER BY starts_at DESC, alert_id LIMIT ?", [*params, limit]
        )

    def release_alerts(self, alert_ids: Sequence[str]) -> None:
        """Take resolved alerts out of their groups (their resolution has been flushed)."""
        if not alert_ids:
            return
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE alerts SET in_group = false WHERE alert_id IN (SELECT unnest(?))"
                " AND status = 'resolved'",
                [list(alert_ids)],
            )

    def count_firing(self) -> int:
        """How many alerts are firing now."""
        with self.db.read() as conn:
            row = conn.execute("SELECT count(*) FROM alerts WHERE status = 'firing'").fetchone()
        return int(row[0]) if row else 0

    def _select_alerts(self, tail: str, params: list[Any]) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            records = conn.execute(
                f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts {tail}", params
            ).fetchall()
        return _rows(_ALERT_COLUMNS, records)

    # -- groups and the notification log --------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        """Every aggregation group with its timer."""
        columns = ("group_key", "group_labels", "created_at", "next_flush_at")
        with self.db.read() as conn:
            records = conn.execute(f"SELECT {', '.join(columns)} FROM alert_groups").fetchall()
        return _rows(columns, records)

    def add_group(self, group: Mapping[str, Any]) -> None:
        """Create a group unless it exists."""
        with self.db.transaction() as conn:
            self._insert_group(conn, group)

    @staticmethod
    def _insert_group(conn: Any, group: Mapping[str, Any]) -> None:
        conn.execute(
            "INSERT INTO alert_groups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                group["group_key"],
                _encode("group_labels", group["group_labels"]),
                group["created_at"],
                group["next_flush_at"],
            ],
        )

    def schedule_groups(self, next_flush_at: Mapping[str, datetime]) -> None:
        """Set when each group flushes next (one transaction)."""
        if not next_flush_at:
            return
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE alert_groups SET next_flush_at = ? WHERE group_key = ?",
                [[moment, key] for key, moment in next_flush_at.items()],
            )

    def delete_group(self, group_key: str) -> None:
        """Drop an empty group and its notification log."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM alert_groups WHERE group_key = ?", [group_key])
            conn.execute("DELETE FROM alert_nflog WHERE group_key = ?", [group_key])

    def notify_log(self, group_key: str) -> dict[str, dict[str, Any]]:
        """Per notifier: when it last got this group and which fingerprints it was told."""
        columns = ("notifier", "notified_at", "firing", "resolved")
        with self.db.read() as conn:
            records = conn.execute(
                f"SELECT {', '.join(columns)} FROM alert_nflog WHERE group_key = ?", [group_key]
            ).fetchall()
        return {row["notifier"]: row for row in _rows(columns, records)}

    def record_delivery(self, delivery: Mapping[str, Any]) -> None:
        """Log one delivery attempt; on success also update the notification log."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO alert_notifications VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    delivery["ts"],
                    delivery["group_key"],
                    delivery["notifier"],
                    delivery["status"],
                    delivery["alerts"],
                    delivery["ok"],
                    delivery.get("error"),
                ],
            )
            if delivery["ok"]:
                conn.execute(
                    "INSERT INTO alert_nflog VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                    " notified_at = excluded.notified_at, firing = excluded.firing,"
                    " resolved = excluded.resolved",
                    [
                        delivery["group_key"],
                        delivery["notifier"],
                        delivery["ts"],
                        _encode("firing", sorted(delivery["firing"])),
                        _encode("resolved", sorted(delivery["resolved"])),
                    ],
                )
            self._add(conn, "notifications_sent" if delivery["ok"] else "notifications_failed", 1)

    # -- silences -----------------------------------------------------------------------------

    def save_silence(self, row: Mapping[str, Any]) -> None:
        """Insert or replace a silence."""
        values = [_encode(column, row[column]) for column in _SILENCE_COLUMNS]
        marks = ", ".join("?" for _ in _SILENCE_COLUMNS)
        with self.db.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO alert_silences ({', '.join(_SILENCE_COLUMNS)})"
                f" VALUES ({marks})",
                values,
            )

    def silences(self) -> list[dict[str, Any]]:
        """Every silence, newest first."""
        with self.db.read() as conn:
            records = conn.execute(
                f"SELECT {', '.join(_SILENCE_COLUMNS)} FROM alert_silences ORDER BY updated_at DESC"
            ).fetchall()
        return _rows(_SILENCE_COLUMNS, records)

    def enforce_retention(self, before: datetime) -> int:
        """Delete history older than ``before``: resolved alerts out of their groups, the
        delivery log and expired silences. Returns how many alerts were deleted."""
        with self.db.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM alerts WHERE status = 'resolved' AND NOT in_group AND ends_at < ?"
                " RETURNING alert_id",
                [before],
            ).fetchall()
            conn.execute("DELETE FROM alert_notifications WHERE ts < ?", [before])
            conn.execute("DELETE FROM alert_silences WHERE ends_at < ?", [before])
        return len(deleted)

    # -- counters -----------------------------------------------------------------------------

    def add_counter(self, name: str, amount: int) -> None:
        """Add ``amount`` to a named counter."""
        with self.db.transaction() as conn:
            self._add(conn, name, amount)

    def counters(self) -> dict[str, int]:
        """Every counter by name."""
        with self.db.read() as conn:
            records = conn.execute("SELECT name, value FROM alert_counters").fetchall()
        return {str(name): int(value) for name, value in records}

    @staticmethod
    def _add(conn: Any, name: str, amount: int) -> None:
        conn.execute(
            "INSERT INTO alert_counters VALUES (?, ?) ON CONFLICT DO UPDATE"
            " SET value = alert_counters.value + excluded.value",
            [name, amount],
        )
