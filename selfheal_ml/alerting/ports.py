"""What the AlertManager needs from the outside: a time source and a state store.

Both are structural protocols. ``selfheal_ml.clock.Clock`` (``RealClock``, ``SimClock``)
satisfies :class:`TimeSource`, and ``selfheal_ml.storage.alerts.AlertStore`` satisfies
:class:`AlertStateStore`; they are declared here because the layer contract keeps ``alerting``,
``storage`` and ``clock`` independent of each other. Rows cross the boundary as dicts keyed by
column name (see ``storage/migrations/002_alerts.sql``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class TimeSource(Protocol):
    """Anything with ``now()`` returning a timezone-aware UTC datetime (e.g. a Clock)."""

    def now(self) -> datetime: ...


class AlertWriter(Protocol):
    """The writes of the manager's alert path: the store, or an ingest batch gathering them
    for one transaction (:class:`~selfheal_ml.alerting.ingest_batch.IngestBatch`)."""

    def insert_alert(self, row: Mapping[str, Any], group: Mapping[str, Any]) -> None: ...

    def update_alert(self, alert_id: str, changes: Mapping[str, Any]) -> None: ...

    def resolve_alerts(
        self,
        alert_ids: Sequence[str],
        ends_at: datetime | None,
        updated_at: datetime,
        *,
        auto: bool,
    ) -> int: ...


class AlertStateStore(Protocol):
    """Persistence of alerts, groups, the notification log, silences and counters."""

    def insert_alert(self, row: Mapping[str, Any], group: Mapping[str, Any]) -> None: ...

    def update_alert(self, alert_id: str, changes: Mapping[str, Any]) -> None: ...

    def write_batch(
        self,
        inserts: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
        changes_by_id: Mapping[str, Mapping[str, Any]],
        resolved_ids: Sequence[str],
        resolved_at: datetime | None,
    ) -> int: ...

    def update_alerts(self, changes_by_id: Mapping[str, Mapping[str, Any]]) -> None: ...

    def resolve_alerts(
        self,
        alert_ids: Sequence[str],
        ends_at: datetime | None,
        updated_at: datetime,
        *,
        auto: bool,
    ) -> int: ...

    def firing_alert(self, fingerprint: str) -> dict[str, Any] | None: ...

    def expired_alerts(self, now: datetime) -> list[dict[str, Any]]: ...

    def grouped_alerts(self) -> list[dict[str, Any]]: ...

    def alerts(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...

    def release_alerts(self, alert_ids: Sequence[str]) -> None: ...

    def count_firing(self) -> int: ...

    def groups(self) -> list[dict[str, Any]]: ...

    def add_group(self, group: Mapping[str, Any]) -> None: ...

    def schedule_groups(self, next_flush_at: Mapping[str, datetime]) -> None: ...

    def delete_group(self, group_key: str) -> None: ...

    def notify_log(self, group_key: str) -> dict[str, dict[str, Any]]: ...

    def record_delivery(self, delivery: Mapping[str, Any]) -> None: ...

    def save_silence(self, row: Mapping[str, Any]) -> None: ...

    def silences(self) -> list[dict[str, Any]]: ...

    def counters(self) -> dict[str, int]: ...
