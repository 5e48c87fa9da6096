"""AlertState: the AlertManager's in-memory mirror of its store, so hot paths skip DuckDB.

The store stays the source of truth: the manager loads every grouped alert (firing, or
resolved but not yet flushed), every group, the silences and the counters into an
:class:`AlertState` when it starts, and writes every real change through. The mirror answers
the questions asked on every tick (is this alert already firing? how many are active? is
anything due?) without a query.

Two things may run ahead of the store on purpose:

- ``pending``: ``ends_at``/``updated_at`` extensions of repeat fires, persisted lazily by the
  manager (with the next real change of that alert, every ``persist_interval_s`` of clock time,
  and on ``flush()``/``close()``).
- ``next_due``: a lower bound on the next moment :meth:`AlertManager.evaluate` has work to do
  (an ``ends_at`` expiry or a group flush). It may be early (then evaluate looks, finds
  nothing and recomputes it exactly) but never late.

No I/O here: the manager holds the lock and talks to the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_ml.alerting.dispatch import group_key, group_labels
from selfheal_ml.alerting.model import Alert
from selfheal_ml.alerting.silences import Silence, silencing

_ALWAYS = datetime.min.replace(tzinfo=UTC)


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the given moments, ignoring ``None``.

    >>> from datetime import UTC
    >>> earliest(None, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)).day
    1
    >>> earliest(None) is None
    True
    """
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


def alert_from_row(row: Mapping[str, Any], silences: list[Silence], now: datetime) -> Alert:
    """An alert row (store or memory) as an :class:`Alert` muted by ``silences`` at ``now``."""
    fields = {key: value for key, value in row.items() if key != "in_group"}
    muted = silencing(silences, row["labels"], now)
    return Alert.model_validate({**fields, "silenced_by": muted})


@dataclass
class AlertState:
    """Grouped alerts, groups, silences and counters, indexed for the AlertManager."""

    group_by: tuple[str, ...]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # alert_id -> row, in_group
    firing: dict[str, str] = field(default_factory=dict)  # fingerprint -> alert_id
    group_of: dict[str, str] = field(default_factory=dict)  # alert_id -> group key
    members: dict[str, dict[str, None]] = field(default_factory=dict)  # key -> ordered ids
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group key -> group row
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # alert_id -> changes
    counters: dict[str, int] = field(default_factory=dict)
    next_due: datetime | None = None

    def load(
        self,
        alert_rows: Iterable[Mapping[str, Any]],
        group_rows: Iterable[Mapping[str, Any]],
        counters: Mapping[str, int],
    ) -> None:
        """Fill the mirror from store rows; ``next_due`` becomes the exact next due moment."""
        self.groups = {row["group_key"]: dict(row) for row in group_rows}
        for row in alert_rows:
            self._index(dict(row))
        self.counters = dict(counters)
        self.recompute_due(None)

    def key_of(self, labels: dict[str, str]) -> str:
        """The aggregation group key of an alert with these labels."""
        return group_key(group_labels(labels, self.group_by))

    def firing_row(self, fingerprint: str) -> dict[str, Any] | None:
        """The firing alert with this fingerprint, if any (its in-memory, newest form)."""
        alert_id = self.firing.get(fingerprint)
        return None if alert_id is None else self.rows[alert_id]

    def add_alert(self, row: dict[str, Any], group: Mapping[str, Any]) -> None:
        """A new firing alert (already inserted in the store) and its group if new."""
        key = self._index(row)
        if key not in self.groups:
            self.groups[key] = dict(group)
            self.lower_due(group["next_flush_at"])
        self.count("total", 1)
        self.lower_due(row["ends_at"])

    def update(self, alert_id: str, changes: Mapping[str, Any], *, lazy: bool) -> None:
        """Apply changes to a row; ``lazy`` ones are remembered until persisted."""
        self.rows[alert_id].update(changes)
        if lazy:
            self.pending.setdefault(alert_id, {}).update(changes)
        else:
            self.pending.pop(alert_id, None)
        if "ends_at" in changes:
            self.lower_due(changes["ends_at"])

    def take_pending(self, alert_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Remove and return the pending changes (of ``alert_ids``, or all)."""
        if alert_ids is None:
            taken, self.pending = self.pending, {}
            return taken
        return {aid: self.pending.pop(aid) for aid in list(alert_ids) if aid in self.pending}

    def mark_resolved(
        self, alert_ids: Iterable[str], ends_at: datetime | None, now: datetime, *, auto: bool
    ) -> None:
        """Resolved in the store: stop firing, stay in the group until flushed."""
        for alert_id in alert_ids:
            row = self.rows[alert_id]
            self.firing.pop(row["fingerprint"], None)
            self.pending.pop(alert_id, None)
            row.update(status="resolved", updated_at=now, auto_resolved=auto)
            if ends_at is not None:
                row["ends_at"] = ends_at

    def release(self, alert_ids: Iterable[str]) -> None:
        """Resolved alerts leave their groups (their resolution was flushed)."""
        for alert_id in alert_ids:
            row = self.rows.get(alert_id)
            if row is None or row["status"] != "resolved":
                continue
            del self.rows[alert_id]
            key = self.group_of.pop(alert_id)
            self.members[key].pop(alert_id, None)
            if not self.members[key]:
                del self.members[key]

    def expired(self, now: datetime) -> list[dict[str, Any]]:
        """Firing alerts whose ``ends_at`` is at or before ``now``."""
        return [
            self.rows[alert_id]
            for alert_id in self.firing.values()
            if self.rows[alert_id]["ends_at"] <= now
        ]

    def active_rows(self) -> list[dict[str, Any]]:
        """Firing alerts, newest first (by start, then id, as the store orders them)."""
        rows = [self.rows[alert_id] for alert_id in self.firing.values()]
        rows.sort(key=lambda row: row["alert_id"])
        rows.sort(key=lambda row: row["starts_at"], reverse=True)
        return rows

    def count(self, name: str, amount: int) -> None:
        """Mirror a counter increment made in the store."""
        if amount:
            self.counters[name] = self.counters.get(name, 0) + amount

    def lower_due(self, moment: datetime | None) -> None:
        """Make sure evaluate looks again no later than ``moment``."""
        self.next_due = earliest(self.next_due, moment)

    def recompute_due(self, persist_at: datetime | None) -> None:
        """The exact next due moment: earliest expiry, group flush or lazy persist."""
        next_expiry = earliest(*(self.rows[aid]["ends_at"] for aid in self.firing.values()))
        next_flush = earliest(*(group["next_flush_at"] for group in self.groups.values()))
        # an alert whose group is gone (group_by changed) is regrouped at the next evaluate
        orphaned = _ALWAYS if self.members.keys() - self.groups.keys() else None
        self.next_due = earliest(next_expiry, next_flush, persist_at, orphaned)

    def _index(self, row: dict[str, Any]) -> str:
        alert_id = row["alert_id"]
        key = self.key_of(row["labels"])
        self.rows[alert_id] = row
        self.group_of[alert_id] = key
        self.members.setdefault(key, {})[alert_id] = None
        if row["status"] == "firing":
            self.firing[row["fingerprint"]] = alert_id
        return key
