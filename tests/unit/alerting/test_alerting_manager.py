"""AlertManager behaviour: dedup, grouping, timers, silences, auto-resolve, counters, restart."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from selfheal_ml.alerting import AlertManager, Matcher, PostableAlert, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.errors import ConfigError, ValidationError

ManagerFactory = Callable[..., AlertManager]  # the make_manager fixture (conftest.py)

LATENCY = {"alertname": "HighLatency", "platform": "leadsite.ai"}


def alertnames(recorder: RecordingNotifier) -> list[list[str]]:
    return [[alert.labels["alertname"] for alert in p.alerts] for p in recorder.payloads]


def test_repeat_fire_deduplicates_and_refreshes(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    first = manager.fire(LATENCY, {"summary": "p95 2.1 s"}, "warning")
    sim_clock.advance(60)
    again = manager.fire(LATENCY, {"summary": "p95 2.5 s"}, "warning")
    assert again.alert_id == first.alert_id
    assert again.fingerprint == first.fingerprint
    assert again.annotations == {"summary": "p95 2.5 s"}
    assert again.ends_at > first.ends_at
    assert again.labels["severity"] == "warning"
    assert [a.annotations["summary"] for a in manager.active()] == ["p95 2.5 s"]
    assert manager.counts().total == 1


def test_different_severity_is_a_different_alert(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    manager.fire(LATENCY, {}, "warning")
    manager.fire(LATENCY, {}, "critical")
    assert manager.counts().active == 2


def test_same_alertname_grouped_different_alertnames_apart(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager()
    manager.fire({"alertname": "HighLatency", "platform": "a"}, {}, "warning")
    manager.fire({"alertname": "HighLatency", "platform": "b"}, {}, "warning")
    manager.fire({"alertname": "DiskFull", "platform": "a"}, {}, "critical")
    sim_clock.advance(30)
    notifications = manager.evaluate()
    assert len(notifications) == 2
    assert sorted(alertnames(recorder)) == [["DiskFull"], ["HighLatency", "HighLatency"]]
    latency = next(p for p in recorder.payloads if p.group_labels == {"alertname": "HighLatency"})
    assert latency.common_labels == {"alertname": "HighLatency", "severity": "warning"}
    assert latency.group_key == '{}:{alertname="HighLatency"}'


def test_group_wait_is_respected(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager(group_wait_s=30.0)
    manager.fire(LATENCY, {}, "warning")
    sim_clock.advance(29)
    assert manager.evaluate() == []
    sim_clock.advance(1)
    assert len(manager.evaluate()) == 1
    assert recorder.payloads[0].status == "firing"


def test_new_alert_in_flushed_group_waits_for_group_interval(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager(group_wait_s=30.0, group_interval_s=300.0, resolve_timeout_s=3600.0)
    manager.fire({"alertname": "HighLatency", "platform": "a"}, {}, "warning")
    sim_clock.advance(30)
    manager.evaluate()
    manager.fire({"alertname": "HighLatency", "platform": "b"}, {}, "warning")
    sim_clock.advance(240)
    assert manager.evaluate() == []
    sim_clock.advance(60)
    assert len(manager.evaluate()) == 1
    assert alertnames(recorder)[-1] == ["HighLatency", "HighLatency"]


def test_unchanged_group_repeats_after_repeat_interval(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager(group_wait_s=0.0, group_interval_s=60.0, repeat_interval_s=600.0)
    for _ in range(16):  # 15 minutes, the alert refreshed every minute
        manager.fire(LATENCY, {}, "warning")
        manager.evaluate()
        sim_clock.advance(60)
    assert len(recorder.payloads) == 2  # at t=0 and t=600


def test_resolve_notifies_resolved_then_group_closes(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager()
    manager.fire(LATENCY, {}, "warning")
    sim_clock.advance(30)
    manager.evaluate()
    resolved = manager.resolve(LATENCY)
    assert resolved is not None and resolved.status == "resolved" and resolved.auto_resolved
    sim_clock.advance(300)
    manager.evaluate()
    assert [p.status for p in recorder.payloads] == ["firing", "resolved"]
    assert recorder.payloads[1].alerts[0].ends_at != "0001-01-01T00:00:00Z"
    sim_clock.advance(3600)
    assert manager.evaluate() == []
    assert manager.counts().auto_resolved == 1
    assert manager.resolve(LATENCY) is None


def test_manual_resolve_is_not_counted_as_auto(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    manager.fire(LATENCY, {}, "info")
    manager.resolve({**LATENCY, "severity": "info"}, auto=False)
    counts = manager.counts()
    assert (counts.active, counts.total, counts.auto_resolved) == (0, 1, 0)


def test_alert_resolves_itself_when_ends_at_passes(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager(resolve_timeout_s=300.0)
    alert = manager.fire(LATENCY, {}, "warning")
    sim_clock.advance(299)
    manager.evaluate()
    assert manager.counts().active == 1
    sim_clock.advance(1)
    manager.evaluate()
    history = manager.alerts(status="resolved")
    assert [a.alert_id for a in history] == [alert.alert_id]
    assert history[0].ends_at == alert.ends_at
    assert manager.counts().auto_resolved == 1


def test_refire_after_resolution_is_a_new_alert(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    first = manager.fire(LATENCY, {}, "warning")
    manager.resolve(LATENCY)
    sim_clock.advance(10)
    second = manager.fire(LATENCY, {}, "warning")
    assert second.alert_id != first.alert_id and second.fingerprint == first.fingerprint
    assert manager.counts().total == 2


def test_silenced_alert_is_stored_and_counted_but_not_notified(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager()
    now = sim_clock.now()
    silence_id = manager.add_silence(
        [Matcher(name="platform", value="lead.*", is_regex=True)],
        now,
        now + timedelta(hours=1),
        "oncall",
        "deploy window",
    )
    manager.fire(LATENCY, {}, "warning")
    manager.fire({"alertname": "HighLatency", "platform": "other"}, {}, "warning")
    sim_clock.advance(30)
    manager.evaluate()
    assert [a.labels["platform"] for p in recorder.payloads for a in p.alerts] == ["other"]
    silenced = [a for a in manager.active() if a.silenced]
    assert [a.silenced_by for a in silenced] == [(silence_id,)]
    assert manager.counts().active == 2 and manager.counts().total == 2
    manager.expire_silence(silence_id)
    sim_clock.advance(300)
    manager.evaluate()
    assert sorted(a.labels["platform"] for a in recorder.payloads[-1].alerts) == [
        "leadsite.ai",
        "other",
    ]
    assert manager.silences()[0].state(sim_clock.now()) == "expired"


def test_silence_validation_names_the_field(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    now = sim_clock.now()
    with pytest.raises(ValidationError) as caught:
        manager.add_silence([], now, now + timedelta(hours=1), "me", "")
    assert caught.value.field == "matchers"
    with pytest.raises(ValidationError) as caught:
        manager.expire_silence("nope")
    assert caught.value.field == "silence_id"


def test_failing_notifier_does_not_block_another(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    broken = RecordingNotifier("broken", fail=True)
    working = RecordingNotifier("working")
    manager = make_manager(notifiers=[broken, working], resolve_timeout_s=3600.0)
    manager.fire(LATENCY, {}, "warning")
    sim_clock.advance(30)
    [notification] = manager.evaluate()
    assert notification.delivered_to == ("working",) and notification.failed == ("broken",)
    assert len(working.payloads) == 1
    counts = manager.counts()
    assert (counts.notifications_sent, counts.notifications_failed) == (1, 1)
    broken.fail = False  # the broken one is retried at the next group interval, alone
    sim_clock.advance(300)
    [retry] = manager.evaluate()
    assert retry.delivered_to == ("broken",)
    assert len(broken.payloads) == 1 and len(working.payloads) == 1


def test_restart_keeps_alerts_counters_silences_and_does_not_renotify(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager(resolve_timeout_s=3600.0)
    latency_id = manager.fire(LATENCY, {}, "warning").alert_id
    manager.fire({"alertname": "DiskFull"}, {}, "critical")
    manager.resolve({"alertname": "DiskFull"})
    now = sim_clock.now()
    silence_id = manager.add_silence(
        [Matcher(name="alertname", value="Noisy")], now, now + timedelta(hours=1), "me", "why"
    )
    sim_clock.advance(30)
    manager.evaluate()
    assert len(recorder.payloads) == 1
    before = manager.counts()
    manager.store.db.close()  # type: ignore[attr-defined]

    reopened = make_manager(resolve_timeout_s=3600.0)
    assert reopened.counts() == before
    assert [a.labels["alertname"] for a in reopened.active()] == ["HighLatency"]
    assert [s.id for s in reopened.silences()] == [silence_id]
    sim_clock.advance(600)
    assert reopened.evaluate() == []  # already notified, repeat interval not reached
    assert reopened.fire(LATENCY, {}, "warning").alert_id == latency_id
    assert reopened.counts().total == 2


def test_ingest_follows_alertmanager_rules(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager(resolve_timeout_s=300.0)
    now = sim_clock.now()
    accepted = manager.ingest(
        [
            PostableAlert(labels={"alertname": "A"}),
            PostableAlert(
                labels={"alertname": "B", "severity": "critical"}, ends_at=now + timedelta(hours=1)
            ),
        ]
    )
    assert accepted == 2
    by_name = {a.labels["alertname"]: a for a in manager.active()}
    assert by_name["A"].severity == "warning"
    assert by_name["A"].ends_at == now + timedelta(seconds=300)
    assert by_name["B"].ends_at == now + timedelta(hours=1)
    manager.ingest([PostableAlert(labels={"alertname": "B", "severity": "critical"}, ends_at=now)])
    assert [a.labels["alertname"] for a in manager.active()] == ["A"]
    assert manager.counts().auto_resolved == 1


def test_ingest_json_reports_bad_entries(make_manager: ManagerFactory) -> None:
    with pytest.raises(ValidationError) as caught:
        make_manager().ingest_json([{"labels": {"alertname": "X"}, "extra": 1}])
    assert caught.value.field == "alerts"


@pytest.mark.parametrize(
    ("option", "value"),
    [("group_interval_s", 0.0), ("resolve_timeout_s", -1.0), ("group_wait_s", -1.0)],
)
def test_bad_timer_settings_are_config_errors(
    make_manager: ManagerFactory, option: str, value: float
) -> None:
    with pytest.raises(ConfigError, match=option):
        make_manager(**{option: value})


def test_fire_validates_labels(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    with pytest.raises(ValidationError) as caught:
        manager.fire({"platform": "x"}, {}, "warning")
    assert caught.value.field == "labels"
    with pytest.raises(ValidationError):
        manager.fire(LATENCY, {}, "page")  # type: ignore[arg-type]


def test_concurrent_fires_of_one_condition_make_one_alert(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    with ThreadPoolExecutor(max_workers=4) as pool:
        alerts = list(pool.map(lambda _: manager.fire(LATENCY, {}, "warning"), range(20)))
    assert len({alert.alert_id for alert in alerts}) == 1
    assert manager.counts().total == 1


def test_silenced_alert_that_resolves_is_never_notified(
    make_manager: ManagerFactory, sim_clock: SimClock, recorder: RecordingNotifier
) -> None:
    manager = make_manager()
    now = sim_clock.now()
    manager.add_silence(
        [Matcher(name="alertname", value="Noisy")], now, now + timedelta(days=1), "me", ""
    )
    manager.fire({"alertname": "Noisy"}, {}, "info")
    sim_clock.advance(30)
    assert manager.evaluate() == []
    manager.resolve({"alertname": "Noisy"})
    sim_clock.advance(300)
    assert manager.evaluate() == []
    assert recorder.payloads == []
    assert manager.counts().total == 1


def test_naive_times_and_bad_limits_are_refused(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    with pytest.raises(ValidationError) as caught:
        manager.fire(LATENCY, {}, "warning", starts_at=datetime(2026, 1, 5))
    assert caught.value.field == "starts_at"
    with pytest.raises(ValidationError) as caught:
        manager.alerts(limit=0)
    assert caught.value.field == "limit"
