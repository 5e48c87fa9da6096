"""One notification carries one state per alert, and the external URL the manager was given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.alerting import AlertManager, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database


def test_an_alert_that_resolved_and_fired_again_is_notified_once_as_firing() -> None:
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    recorder = RecordingNotifier()
    manager = AlertManager(
        AlertStore(Database(":memory:")), clock, [recorder], external_url="https://heal.example"
    )
    labels = {"alertname": "DiskFull", "host": "a"}
    manager.fire(labels, severity="warning")
    manager.evaluate(clock.now() + timedelta(seconds=31))
    clock.advance(60)
    manager.resolve({**labels, "severity": "warning"})
    clock.advance(10)
    manager.fire(labels, severity="warning")  # fires again before the group was flushed
    manager.fire({"alertname": "DiskFull", "host": "b"}, severity="warning")  # news: notify
    manager.evaluate(clock.now() + timedelta(seconds=270))  # the group's next look, still firing

    first, second = recorder.payloads
    assert first.external_url == "https://heal.example"
    fingerprints = [alert.fingerprint for alert in second.alerts]
    assert len(fingerprints) == len(set(fingerprints)) == 2
    assert sorted((alert.labels["host"], alert.status) for alert in second.alerts) == [
        ("a", "firing"),
        ("b", "firing"),
    ]
    assert second.alerts[0].generator_url.startswith("https://heal.example/admin/#alert=")
