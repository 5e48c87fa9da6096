"""Hot paths: repeat fires persist lazily, evaluate does no store work until something is due."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from selfheal_ml.alerting import AlertManager, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

LATENCY = {"alertname": "HighLatency", "platform": "leadsite.ai"}
SUMMARY = {"summary": "p95 above 2 s"}


class RecordingStore:
    """An AlertStore that records the name of every method called on it."""

    def __init__(self, inner: AlertStore) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def db(self) -> Database:
        return self.inner.db

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return recorded


@pytest.fixture
def open_manager(
    db_path: Path, sim_clock: SimClock, recorder: RecordingNotifier
) -> Iterator[Callable[..., tuple[AlertManager, RecordingStore]]]:
    """Managers over one DuckDB file, each on its own Database with a RecordingStore."""
    databases: list[Database] = []

    def build(**options: Any) -> tuple[AlertManager, RecordingStore]:
        database = Database(db_path)
        databases.append(database)
        store = RecordingStore(AlertStore(database))
        return AlertManager(store, sim_clock, [recorder], **options), store

    yield build
    for database in databases:
        database.close()


def test_repeat_fire_writes_nothing_and_restart_still_sees_the_alert(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]], sim_clock: SimClock
) -> None:
    manager, store = open_manager(resolve_timeout_s=300.0)
    first = manager.fire(LATENCY, SUMMARY, "warning")
    store.calls.clear()
    for _ in range(4):  # 120 s < persist_interval_s (150 s by default)
        sim_clock.advance(30)
        again = manager.fire(LATENCY, SUMMARY, "warning")
    assert store.calls == []
    assert again.alert_id == first.alert_id and again.ends_at > first.ends_at
    assert manager.active()[0].ends_at == again.ends_at
    assert manager.counts().total == 1 and manager.counts().active == 1
    manager.store.db.close()  # type: ignore[attr-defined]  # a crash: no flush

    reopened, _ = open_manager(resolve_timeout_s=300.0)
    [active] = reopened.active()
    assert active.alert_id == first.alert_id
    assert first.ends_at <= active.ends_at < again.ends_at  # older end within the lag
    counts = reopened.counts()
    assert (counts.active, counts.total, counts.auto_resolved) == (1, 1, 0)


def test_close_persists_the_newest_ends_at(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]], sim_clock: SimClock
) -> None:
    manager, _ = open_manager()
    manager.fire(LATENCY, SUMMARY, "warning")
    sim_clock.advance(30)
    latest = manager.fire(LATENCY, SUMMARY, "warning")
    manager.close()
    manager.store.db.close()  # type: ignore[attr-defined]
    reopened, _ = open_manager()
    assert [a.ends_at for a in reopened.active()] == [latest.ends_at]
    assert reopened.active()[0].updated_at == latest.updated_at


def test_annotation_change_is_written_through(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]], sim_clock: SimClock
) -> None:
    manager, store = open_manager()
    manager.fire(LATENCY, SUMMARY, "warning")
    store.calls.clear()
    sim_clock.advance(30)
    changed = manager.fire(LATENCY, {"summary": "p95 above 3 s"}, "warning")
    assert store.calls == ["update_alert"]
    manager.store.db.close()  # type: ignore[attr-defined]
    reopened, _ = open_manager()
    [active] = reopened.active()
    assert active.annotations == {"summary": "p95 above 3 s"}
    assert active.ends_at == changed.ends_at


def test_evaluate_touches_no_store_until_something_is_due(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]],
    sim_clock: SimClock,
    recorder: RecordingNotifier,
) -> None:
    manager, store = open_manager(
        group_wait_s=30.0, group_interval_s=300.0, resolve_timeout_s=3600.0
    )
    manager.fire(LATENCY, SUMMARY, "warning")
    store.calls.clear()
    for _ in range(29):  # group_wait not over yet
        sim_clock.advance(1)
        assert manager.evaluate() == []
    assert store.calls == []
    sim_clock.advance(1)
    assert len(manager.evaluate()) == 1  # the group's first flush is due
    assert "notify_log" in store.calls and "record_delivery" in store.calls
    store.calls.clear()
    for _ in range(299):  # the next look is group_interval later
        sim_clock.advance(1)
        assert manager.evaluate() == []
    assert store.calls == []
    sim_clock.advance(1)
    assert manager.evaluate() == []  # due: looked at, nothing new to send, no write
    assert store.calls == ["notify_log"]
    assert len(recorder.payloads) == 1


def test_pending_extensions_are_persisted_in_one_batch_by_evaluate(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]], sim_clock: SimClock
) -> None:
    manager, store = open_manager(resolve_timeout_s=300.0, group_interval_s=3600.0)
    other = {"alertname": "DiskFull", "host": "db1"}
    manager.fire(LATENCY, SUMMARY, "warning")
    manager.fire(other, {}, "critical")
    sim_clock.advance(30)
    manager.evaluate()  # first flush of both groups
    store.calls.clear()
    for _ in range(5):  # 150 s of repeats: the persist deadline
        manager.fire(LATENCY, SUMMARY, "warning")
        manager.fire(other, {}, "critical")
        manager.evaluate()
        sim_clock.advance(30)
    manager.evaluate()
    assert store.calls == ["update_alerts"]
    manager.store.db.close()  # type: ignore[attr-defined]
    reopened, _ = open_manager(resolve_timeout_s=300.0)
    assert all(a.ends_at > sim_clock.now() for a in reopened.active())
    assert len(reopened.active()) == 2


def test_expiry_uses_the_extended_ends_at(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]], sim_clock: SimClock
) -> None:
    manager, _ = open_manager(resolve_timeout_s=300.0, persist_interval_s=3600.0)
    manager.fire(LATENCY, SUMMARY, "warning")
    sim_clock.advance(100)
    refreshed = manager.fire(LATENCY, SUMMARY, "warning")  # ends 400 s after the start
    sim_clock.advance(299)
    manager.evaluate()
    assert manager.counts().active == 1
    sim_clock.advance(1)
    manager.evaluate()
    assert manager.counts().active == 0 and manager.counts().auto_resolved == 1
    manager.store.db.close()  # type: ignore[attr-defined]
    reopened, _ = open_manager()
    [resolved] = reopened.alerts(status="resolved")
    assert resolved.ends_at == refreshed.ends_at and resolved.auto_resolved


def test_restart_with_new_grouping_regroups_at_the_first_evaluate(
    open_manager: Callable[..., tuple[AlertManager, RecordingStore]],
    sim_clock: SimClock,
    recorder: RecordingNotifier,
) -> None:
    manager, _ = open_manager(resolve_timeout_s=3600.0)
    manager.fire(LATENCY, SUMMARY, "warning")
    sim_clock.advance(30)
    manager.evaluate()
    manager.close()
    manager.store.db.close()  # type: ignore[attr-defined]
    reopened, _ = open_manager(resolve_timeout_s=3600.0, group_by=("alertname", "platform"))
    sim_clock.advance(1)
    [notification] = reopened.evaluate()
    assert notification.group_key == '{}:{alertname="HighLatency", platform="leadsite.ai"}'
    assert len(recorder.payloads) == 2
    sim_clock.advance(300)
    assert reopened.evaluate() == []  # the old, empty group is gone, the new one repeats later
