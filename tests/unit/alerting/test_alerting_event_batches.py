"""``AlertManager.handle_events``: a batch of bus events ends in the same alerts, counters and
stored rows as the same events one by one, written in one commit (the anomaly-storm path)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from selfheal_ml.alerting import AlertManager
from selfheal_ml.clock import SimClock
from selfheal_ml.events import AlertRaised, AnomalyDetected, Event, IncidentStatusChanged, Tick
from selfheal_ml.lifecycle import IncidentStatus

ManagerFactory = Callable[..., AlertManager]  # the make_manager fixture (conftest.py)

TS = datetime(2026, 1, 5, tzinfo=UTC)


def anomaly(series: str, value: float) -> AnomalyDetected:
    return AnomalyDetected(
        ts=TS, source="predictive", series=series, value=value, score=9.0, expected_low=1.0,
        expected_high=2.0, detector="median", severity="critical",
        labels={"platform": "shop"}, explanation="storm",
    )  # fmt: skip


def storm() -> list[Event]:
    """New alerts, a repeat with new annotations, a firing and a resolved threshold alert,
    a resolution of an alert that never fired and a non-alert event."""
    raised = AlertRaised(
        ts=TS, source="monitor", alertname="TargetDown", severity="critical",
        labels={"target": "api"},
    )  # fmt: skip
    return [
        *(anomaly(f"latency_{index}", 50.0 + index) for index in range(30)),
        anomaly("latency_3", 99.0),
        raised,
        Tick(ts=TS, source="scheduler", kind="health"),
        raised.model_copy(update={"firing": False}),
        IncidentStatusChanged(
            ts=TS, source="Repair", incident_id="inc-1", status=IncidentStatus.RESOLVED
        ),
    ]


def snapshot(manager: AlertManager) -> tuple[Any, ...]:
    """What callers read: counts, firing alerts (labels, annotations) and the stored rows."""
    firing = sorted(
        (sorted(alert.labels.items()), sorted(alert.annotations.items()))
        for alert in manager.active()
    )
    stored = sorted(
        (row["fingerprint"], row["status"], row["auto_resolved"])
        for row in manager.store.alerts(limit=1000)
    )
    return manager.counts(), firing, stored, manager.store.counters()


def test_a_batch_ends_where_the_events_one_by_one_end(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    from selfheal_ml.storage.alerts import AlertStore
    from selfheal_ml.storage.database import Database

    events = storm()
    one_by_one = AlertManager(AlertStore(Database(":memory:")), sim_clock, [])
    for event in events:
        one_by_one.handle_event(event)
    batched = make_manager(notifiers=[])
    handled = batched.handle_events(events)
    assert handled == 34  # 31 anomalies, a fire, two resolutions; the tick is no alert
    assert snapshot(batched) == snapshot(one_by_one)
    assert batched.counts().active == 30 and batched.counts().auto_resolved == 1


def test_a_batch_is_one_commit(make_manager: ManagerFactory) -> None:
    manager = make_manager(notifiers=[])
    commits: list[int] = []
    write_batch = manager.store.write_batch  # type: ignore[attr-defined]

    def counting(*args: Any) -> int:
        commits.append(len(args[0]))
        return int(write_batch(*args))

    manager.store.write_batch = counting  # type: ignore[method-assign]
    manager.handle_events([anomaly(f"s{index}", 10.0) for index in range(200)])
    assert commits == [200]


def test_a_stored_batch_survives_a_restart(make_manager: ManagerFactory) -> None:
    manager = make_manager(notifiers=[])
    manager.handle_events([anomaly(f"s{index}", 10.0) for index in range(50)])
    reopened = make_manager(notifiers=[])
    assert reopened.counts().active == 50 and reopened.counts().total == 50


def test_an_event_with_invalid_labels_is_skipped_not_the_batch(
    make_manager: ManagerFactory,
) -> None:
    manager = make_manager(notifiers=[])
    bad = AlertRaised(ts=TS, source="monitor", alertname="", severity="warning")  # no name
    handled = manager.handle_events([anomaly("a", 5.0), bad, anomaly("b", 5.0)])
    assert handled == 2 and manager.counts().active == 2
