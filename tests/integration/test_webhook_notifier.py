"""A real HTTP receiver on 127.0.0.1 gets the Alertmanager webhook v4 POST from the manager."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from selfheal_ml.alerting import AlertManager, RecordingNotifier, WebhookNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

pytestmark = pytest.mark.integration


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[str, dict[str, str], object]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        headers = {key.lower(): value for key, value in self.headers.items()}
        type(self).bodies.append((self.path, headers, json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return  # keep test output quiet


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}/hook", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_webhook_reaches_a_real_server(
    receiver: tuple[str, type[_Receiver]], db_path: Path, sim_clock: SimClock
) -> None:
    url, handler = receiver
    webhook = WebhookNotifier(url, timeout_s=5.0)
    recorder = RecordingNotifier()
    database = Database(db_path)
    manager = AlertManager(AlertStore(database), sim_clock, [webhook, recorder])
    manager.fire({"alertname": "HighLatency", "platform": "a"}, {"summary": "slow"}, "critical")
    manager.fire({"alertname": "HighLatency", "platform": "b"}, {"summary": "slow"}, "critical")
    sim_clock.advance(30)
    [notification] = manager.evaluate()
    webhook.close()
    database.close()

    assert notification.delivered_to == (webhook.name, "recording")
    [(path, headers, body)] = handler.bodies
    assert path == "/hook" and headers["content-type"] == "application/json"
    assert isinstance(body, dict)
    assert body == recorder.payloads[0].to_json()
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["groupKey"] == '{}:{alertname="HighLatency"}'
    assert body["groupLabels"] == {"alertname": "HighLatency"}
    assert body["commonLabels"] == {"alertname": "HighLatency", "severity": "critical"}
    assert sorted(alert["labels"]["platform"] for alert in body["alerts"]) == ["a", "b"]
    assert {alert["startsAt"] for alert in body["alerts"]} == {"2026-01-05T00:00:00Z"}


def test_unreachable_webhook_is_counted_not_raised(db_path: Path, sim_clock: SimClock) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    port = server.server_address[1]
    server.server_close()  # nothing listens on this port any more
    webhook = WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout_s=1.0)
    database = Database(db_path)
    manager = AlertManager(AlertStore(database), sim_clock, [webhook])
    manager.fire({"alertname": "X"}, {}, "warning")
    sim_clock.advance(30)
    [notification] = manager.evaluate()
    assert notification.failed == (webhook.name,)
    assert manager.counts().notifications_failed == 1
    webhook.close()
    database.close()
