"""AlertStore round trips: JSON columns, UTC times, counters, retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from selfheal_ml.alerting import AlertManager
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

ManagerFactory = Callable[..., AlertManager]  # the make_manager fixture (conftest.py)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def row(alert_id: str, starts_at: datetime) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "fingerprint": "f" * 16,
        "labels": {"alertname": "X", "severity": "info"},
        "annotations": {"summary": 'ü & "quotes"'},
        "severity": "info",
        "status": "firing",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=5),
        "updated_at": starts_at,
        "generator_url": "",
        "auto_resolved": False,
        "in_group": True,
    }


def group() -> dict[str, object]:
    return {
        "group_key": '{}:{alertname="X"}',
        "group_labels": {"alertname": "X"},
        "created_at": T0,
        "next_flush_at": T0,
    }


def test_round_trip_keeps_json_and_returns_utc() -> None:
    store = AlertStore(Database(":memory:"))
    local = T0.astimezone(timezone(timedelta(hours=5)))
    store.insert_alert(row("a1", local), group())
    stored = store.firing_alert("f" * 16)
    assert stored is not None
    assert stored["annotations"] == {"summary": 'ü & "quotes"'}
    assert stored["starts_at"] == T0 and stored["starts_at"].utcoffset() == timedelta(0)
    assert store.counters() == {"total": 1}
    assert [g["group_labels"] for g in store.groups()] == [{"alertname": "X"}]
    store.db.close()


def test_resolve_counts_only_alerts_that_were_firing() -> None:
    store = AlertStore(Database(":memory:"))
    store.insert_alert(row("a1", T0), group())
    assert store.resolve_alerts(["a1", "missing"], None, T0, auto=True) == 1
    assert store.resolve_alerts(["a1"], None, T0, auto=True) == 0
    assert store.counters()["auto_resolved"] == 1
    store.db.close()


def test_retention_drops_old_released_history_only(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    manager.fire({"alertname": "Old"}, {}, "info")
    manager.resolve({"alertname": "Old"})
    sim_clock.advance(30)
    manager.evaluate()  # releases the resolved alert from its group
    manager.fire({"alertname": "Current"}, {}, "info")
    sim_clock.advance(86_400)
    store = manager.store
    assert isinstance(store, AlertStore)
    assert store.enforce_retention(sim_clock.now() - timedelta(hours=1)) == 1
    assert [a.labels["alertname"] for a in manager.alerts()] == ["Current"]
    assert manager.counts().total == 2  # counters survive retention
