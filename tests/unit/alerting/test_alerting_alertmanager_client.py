"""The Alertmanager API v2 client: firing with a lifetime, re-sent, resolved with endsAt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from selfheal_ml.alerting import AlertManager
from selfheal_ml.alerting.alertmanager_client import AlertmanagerClient
from selfheal_ml.alerting.payload import WebhookPayload
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database


class Capture:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(200)

        return httpx.MockTransport(answer)

    def bodies(self) -> list[list[dict[str, object]]]:
        return [json.loads(request.content) for request in self.requests]


class PayloadKeeper:
    name = "keeper"

    def __init__(self) -> None:
        self.payloads: list[WebhookPayload] = []

    def send(self, payload: WebhookPayload) -> None:
        self.payloads.append(payload)


def test_firing_is_posted_and_resent_then_resolved_with_its_end() -> None:
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    keeper = PayloadKeeper()
    manager = AlertManager(
        AlertStore(Database(":memory:")), clock, [keeper], external_url="https://heal.example"
    )
    capture = Capture()
    client = AlertmanagerClient(
        "http://am:9093/", clock, bearer_token="t0ken", resend_s=60.0, transport=capture.transport()
    )
    manager.fire({"alertname": "HighLatency", "platform": "a"}, {"summary": "slow"}, "critical")
    manager.evaluate(clock.now() + timedelta(seconds=31))
    client.post_payload(keeper.payloads[-1])
    clock.advance(60)
    client.resend_firing()
    manager.resolve({"alertname": "HighLatency", "platform": "a"})
    manager.evaluate(clock.now() + timedelta(seconds=400))
    client.post_payload(keeper.payloads[-1])
    client.resend_firing()  # nothing fires any more: no request

    first, resent, resolved = capture.bodies()
    assert [str(request.url) for request in capture.requests] == [
        "http://am:9093/api/v2/alerts"
    ] * 3
    assert capture.requests[0].headers["authorization"] == "Bearer t0ken"
    [alert] = first
    assert alert["labels"] == {"alertname": "HighLatency", "platform": "a", "severity": "critical"}
    assert alert["endsAt"] == "2026-01-05T00:04:00Z"  # now + 4 x resend_s
    assert str(alert["generatorURL"]).startswith("https://heal.example/admin/#alert=")
    assert resent[0]["endsAt"] == "2026-01-05T00:05:00Z"
    assert resolved[0]["endsAt"] == "2026-01-05T00:01:00Z"  # the moment it resolved
    assert client.firing() == []
