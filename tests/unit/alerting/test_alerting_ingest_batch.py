"""Batch ingest: one transaction per ingest, all or nothing, the same state as alert by alert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from selfheal_ml.alerting import AlertManager
from selfheal_ml.alerting.model import PostableAlert
from selfheal_ml.clock import SimClock
from selfheal_ml.errors import ValidationError
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

from .conftest import ManagerFactory


class CountingStore(AlertStore):
    """An AlertStore that counts its write transactions by kind; may refuse batches."""

    def __init__(self, db: Database, *, refuse: bool = False) -> None:
        super().__init__(db)
        self.batches = 0
        self.single_inserts = 0
        self.refuse = refuse

    def insert_alert(self, row: Mapping[str, Any], group: Mapping[str, Any]) -> None:
        self.single_inserts += 1
        super().insert_alert(row, group)

    def write_batch(
        self,
        inserts: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
        changes_by_id: Mapping[str, Mapping[str, Any]],
        resolved_ids: Sequence[str],
        resolved_at: datetime | None,
    ) -> int:
        self.batches += 1
        if self.refuse:
            raise OSError("No space left on device")
        return super().write_batch(inserts, changes_by_id, resolved_ids, resolved_at)


def _alerts(count: int, **extra: Any) -> list[PostableAlert]:
    return [
        PostableAlert(labels={"alertname": "Load", "instance": f"host-{i}"}, **extra)
        for i in range(count)
    ]


def test_many_alerts_are_one_transaction_and_survive_a_restart(
    db_path: Any, sim_clock: SimClock, make_manager: ManagerFactory
) -> None:
    database = Database(db_path)
    store = CountingStore(database)
    manager = AlertManager(store, sim_clock, [])
    assert manager.ingest(_alerts(500)) == 500
    assert (store.batches, store.single_inserts) == (1, 0)
    assert manager.counts().active == 500 and manager.counts().total == 500
    database.close()
    reopened = make_manager()
    assert reopened.counts().active == 500 and reopened.counts().total == 500


def test_fire_refresh_and_resolve_in_one_batch(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    now = sim_clock.now()
    first = PostableAlert(labels={"alertname": "A"}, annotations={"summary": "one"})
    changed = PostableAlert(labels={"alertname": "A"}, annotations={"summary": "two"})
    gone = PostableAlert(labels={"alertname": "B"})
    resolved = PostableAlert(labels={"alertname": "B"}, ends_at=now - timedelta(seconds=1))
    manager.ingest([first, gone, changed, resolved])
    [active] = manager.active()
    assert active.labels["alertname"] == "A" and active.annotations == {"summary": "two"}
    stored = {a.labels["alertname"]: a for a in make_manager().alerts(None, 10)}
    assert stored["A"].annotations == {"summary": "two"}
    assert stored["B"].status == "resolved"
    assert make_manager().counts().total == 2


def test_a_bad_alert_stores_nothing(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    # built without validation, as a caller of ingest() could: the manager checks again
    loud = PostableAlert.model_construct(
        labels={"alertname": "X", "severity": "loud"},
        annotations={},
        starts_at=None,
        ends_at=None,
        generator_url="",
    )
    batch = [*_alerts(3), loud]
    with pytest.raises(ValidationError) as caught:
        manager.ingest(batch)
    assert caught.value.field == "alerts[3].labels.severity"
    assert manager.counts().total == 0 and make_manager().counts().total == 0


def test_a_refused_commit_leaves_memory_as_the_store(db_path: Any, sim_clock: SimClock) -> None:
    database = Database(db_path)
    store = CountingStore(database)
    manager = AlertManager(store, sim_clock, [])
    manager.ingest(_alerts(2))
    store.refuse = True
    with pytest.raises(OSError, match="No space"):
        manager.ingest(_alerts(5))
    assert manager.counts().active == 2 and manager.counts().total == 2
    store.refuse = False
    manager.ingest(_alerts(5))
    assert manager.counts().active == 5
    database.close()
