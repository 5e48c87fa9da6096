"""IngestBatch: the writes of one Alertmanager-style ingest, gathered for one transaction.

Ingesting alert by alert cost one transaction (and one WAL sync) per alert: 20,000 alerts
took minutes. During :meth:`AlertManager.ingest` the manager hands its write path this
recorder instead of the store; it keeps the new alerts, the changes and the resolutions in
order, and :meth:`IngestBatch.write` gives them to the store's ``write_batch`` in one commit.

>>> from datetime import datetime, UTC
>>> batch = IngestBatch()
>>> batch.update_alert("a1", {"annotations": {"summary": "x"}})
>>> batch.update_alert("a1", {"generator_url": "http://prom"})
>>> batch.changes["a1"]
{'annotations': {'summary': 'x'}, 'generator_url': 'http://prom'}
>>> batch.resolve_alerts(["a2"], None, datetime(2026, 1, 1, tzinfo=UTC), auto=True)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from selfheal_ml.alerting.ports import AlertStateStore


class IngestBatch:
    """Records ``insert_alert``, ``update_alert`` and ``resolve_alerts`` for one commit."""

    def __init__(self) -> None:
        self.inserts: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
        self.changes: dict[str, dict[str, Any]] = {}
        self.resolved_ids: list[str] = []
        self.resolved_at: datetime | None = None

    def insert_alert(self, row: Mapping[str, Any], group: Mapping[str, Any]) -> None:
        """A new alert and its group (created unless it exists)."""
        self.inserts.append((dict(row), dict(group)))

    def update_alert(self, alert_id: str, changes: Mapping[str, Any]) -> None:
        """Changes to an alert; later changes to the same column win."""
        self.changes.setdefault(alert_id, {}).update(changes)

    def resolve_alerts(
        self,
        alert_ids: Sequence[str],
        ends_at: datetime | None,
        updated_at: datetime,
        *,
        auto: bool,
    ) -> int:
        """Firing alerts resolved now (ingest resolves as ``auto`` at one moment)."""
        self.resolved_ids.extend(alert_ids)
        self.resolved_at = updated_at
        return len(alert_ids)

    def write(self, store: AlertStateStore) -> None:
        """Everything recorded, in one transaction of ``store``."""
        if self.inserts or self.changes or self.resolved_ids:
            store.write_batch(self.inserts, self.changes, self.resolved_ids, self.resolved_at)
