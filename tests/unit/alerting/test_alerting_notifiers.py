"""The webhook v4 payload shape and the three notifiers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from selfheal_ml.alerting import (
    AlertManager,
    LogNotifier,
    RecordingNotifier,
    WebhookNotifier,
    WebhookPayload,
)
from selfheal_ml.clock import SimClock

ManagerFactory = Callable[..., AlertManager]  # the make_manager fixture (conftest.py)

V4_KEYS = {
    "version",
    "groupKey",
    "truncatedAlerts",
    "status",
    "receiver",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "alerts",
}
ALERT_KEYS = {
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def grouped_payload(make_manager: ManagerFactory, sim_clock: SimClock) -> WebhookPayload:
    recorder = RecordingNotifier()
    manager = make_manager(notifiers=[recorder], external_url="http://selfheal:8000")
    manager.fire({"alertname": "HighLatency", "platform": "a"}, {"summary": "slow"}, "warning")
    manager.fire({"alertname": "HighLatency", "platform": "b"}, {"summary": "slow"}, "warning")
    sim_clock.advance(30)
    manager.evaluate()
    return recorder.payloads[0]


def test_payload_has_every_v4_key_and_rfc3339_times(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    body = grouped_payload(make_manager, sim_clock).to_json()
    assert set(body) == V4_KEYS
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["receiver"] == "selfheal-ml" and body["externalURL"] == "http://selfheal:8000"
    assert body["truncatedAlerts"] == 0
    assert body["commonAnnotations"] == {"summary": "slow"}
    assert body["commonLabels"] == {"alertname": "HighLatency", "severity": "warning"}
    assert len(body["alerts"]) == 2
    for alert in body["alerts"]:
        assert set(alert) == ALERT_KEYS
        assert RFC3339.match(alert["startsAt"]) and alert["startsAt"] == "2026-01-05T00:00:00Z"
        assert alert["endsAt"] == "0001-01-01T00:00:00Z"  # still firing
        assert re.fullmatch(r"[0-9a-f]{16}", alert["fingerprint"])
    json.dumps(body)  # serialisable as is


def test_webhook_notifier_posts_json_and_truncates(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    payload = grouped_payload(make_manager, sim_clock)
    notifier = WebhookNotifier(
        "http://receiver/hook", transport=httpx.MockTransport(answer), max_alerts=1
    )
    notifier.send(payload)
    notifier.close()
    body = json.loads(seen[0].content)
    assert seen[0].method == "POST" and seen[0].headers["content-type"] == "application/json"
    assert len(body["alerts"]) == 1 and body["truncatedAlerts"] == 1


def test_webhook_notifier_raises_on_http_error(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    payload = grouped_payload(make_manager, sim_clock)
    notifier = WebhookNotifier(
        "http://receiver/hook", transport=httpx.MockTransport(lambda _: httpx.Response(503))
    )
    with pytest.raises(httpx.HTTPStatusError):
        notifier.send(payload)
    notifier.close()


def test_log_notifier_writes_one_structured_line(
    make_manager: ManagerFactory, sim_clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    payload = grouped_payload(make_manager, sim_clock)
    with caplog.at_level(logging.INFO, logger="selfheal_ml.alerting.notifiers"):
        LogNotifier().send(payload)
    [record] = caplog.records
    assert "\n" not in record.getMessage() and "HighLatency" in record.getMessage()
    assert record.alert_payload["groupKey"] == payload.group_key  # type: ignore[attr-defined]
    assert json.loads(record.alert_payload_json)["version"] == "4"  # type: ignore[attr-defined]


def test_resolved_payload_carries_end_time(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    recorder = RecordingNotifier()
    manager = make_manager(notifiers=[recorder])
    manager.fire({"alertname": "X"}, {}, "info")
    sim_clock.advance(30)
    manager.evaluate()
    manager.resolve({"alertname": "X"})
    sim_clock.advance(300)
    manager.evaluate()
    resolved = recorder.payloads[-1].to_json()
    assert resolved["status"] == "resolved"
    ended = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(seconds=30)
    assert resolved["alerts"][0]["endsAt"] == ended.strftime("%Y-%m-%dT%H:%M:%SZ")
