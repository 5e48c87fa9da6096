"""Notifiers: where group notifications go. Each takes one Alertmanager webhook v4 payload.

A notifier is anything with a ``name`` and ``send(payload) -> None`` that raises on failure;
the AlertManager catches, logs and counts the failure and carries on with the others.

- :class:`LogNotifier` writes one structured log line per notification (payload as JSON extra).
- :class:`WebhookNotifier` POSTs the payload to a URL, exactly as Alertmanager's
  ``webhook_config`` would (so Alertmanager-compatible receivers work unchanged). The HTTP
  transport is injectable (``httpx.MockTransport`` in tests).
- :class:`RecordingNotifier` keeps payloads in memory: the stand-in for tests and demos.

>>> recorder = RecordingNotifier()
>>> recorder.name, recorder.payloads
('recording', [])
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Protocol

import httpx

from selfheal_ml.alerting.payload import WebhookPayload

_LOGGER = logging.getLogger(__name__)


class Notifier(Protocol):
    """Delivers one group notification; raises when delivery failed."""

    @property
    def name(self) -> str: ...

    def send(self, payload: WebhookPayload) -> None: ...


class LogNotifier:
    """One INFO line per notification; the full payload rides in ``extra['alert_payload']``."""

    def __init__(self, logger: logging.Logger | None = None, name: str = "log") -> None:
        self.logger = logger if logger is not None else _LOGGER
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def send(self, payload: WebhookPayload) -> None:
        body = payload.to_json()
        names = sorted({alert.labels.get("alertname", "") for alert in payload.alerts})
        self.logger.info(
            "alert notification status=%s group=%s alerts=%d alertnames=%s",
            payload.status,
            payload.group_key,
            len(payload.alerts),
            ",".join(names),
            extra={"alert_payload": body, "alert_payload_json": json.dumps(body)},
        )


class WebhookNotifier:
    """POST the v4 JSON to ``url``; non-2xx answers and transport errors raise.

    ``max_alerts`` (0 = unlimited) truncates long groups like Alertmanager's option of the same
    name, reporting the rest in ``truncatedAlerts``. ``bearer_token`` is sent as
    ``Authorization: Bearer``. With ``send_resolved=False`` resolved alerts are left out, and
    a notification with nothing firing is not sent (Alertmanager's option of that name).
    """

    def __init__(
        self,
        url: str,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        *,
        max_alerts: int = 0,
        name: str | None = None,
        bearer_token: str | None = None,
        send_resolved: bool = True,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.max_alerts = max_alerts
        self.send_resolved = send_resolved
        self._name = name if name is not None else f"webhook:{url}"
        headers = {"User-Agent": "selfheal-ml-alertmanager"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self._client = httpx.Client(timeout=timeout_s, transport=transport, headers=headers)

    @property
    def name(self) -> str:
        return self._name

    def send(self, payload: WebhookPayload) -> None:
        if not self.send_resolved:
            firing = tuple(alert for alert in payload.alerts if alert.status == "firing")
            if not firing:
                return
            payload = payload.model_copy(update={"alerts": firing})
        body = payload.truncated(self.max_alerts).to_json()
        response = self._client.post(self.url, json=body)
        response.raise_for_status()

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()


class RecordingNotifier:
    """Keeps every payload it is sent (thread-safe); ``fail=True`` makes it raise instead."""

    def __init__(self, name: str = "recording", *, fail: bool = False) -> None:
        self._name = name
        self.fail = fail
        self.payloads: list[WebhookPayload] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def send(self, payload: WebhookPayload) -> None:
        if self.fail:
            raise ConnectionError(f"{self._name}: configured to fail")
        with self._lock:
            self.payloads.append(payload)
