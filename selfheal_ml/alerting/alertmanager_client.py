"""An Alertmanager API v2 client: our alerts into a real Alertmanager, as Prometheus sends them.

Alertmanager's ingest (``POST /api/v2/alerts``) takes a JSON array of *postable alerts*
(``labels``, ``annotations``, ``startsAt``, ``endsAt``, ``generatorURL``), not the webhook
payload our notifiers receive. :class:`AlertmanagerClient` converts each group notification:

- a firing alert is posted with ``endsAt`` = now + ``4 * resend_s`` and remembered; while it
  fires it is re-sent every ``resend_s`` (Prometheus re-sends every ``resend_delay``, 1 min,
  with the same lifetime rule), so Alertmanager keeps it active and lets it expire by itself
  if we go away;
- a resolved alert is posted with its real ``endsAt`` (in the past) and forgotten, so
  Alertmanager resolves it at once.

Runs behind a :class:`~selfheal_ml.alerting.delivery.QueuedNotifier` (retries, backoff,
re-send timer); the HTTP transport is injectable (``httpx.MockTransport`` in tests).

>>> from datetime import datetime, UTC
>>> from selfheal_ml.alerting.payload import WebhookAlert
>>> alert = WebhookAlert(status="firing", labels={"alertname": "X"}, annotations={},
...     starts_at="2026-01-05T00:00:00Z", ends_at="0001-01-01T00:00:00Z",
...     generator_url="http://selfheal/admin/", fingerprint="f1")
>>> postable_alert(alert, datetime(2026, 1, 5, tzinfo=UTC), 60.0)["endsAt"]
'2026-01-05T00:04:00Z'
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import httpx

from selfheal_ml.alerting.model import format_rfc3339
from selfheal_ml.alerting.payload import WebhookAlert, WebhookPayload
from selfheal_ml.alerting.ports import TimeSource


def postable_alert(alert: WebhookAlert, now: datetime, resend_s: float) -> dict[str, Any]:
    """The ``POST /api/v2/alerts`` entry for one alert of a notification."""
    if alert.status == "firing":
        ends_at = format_rfc3339(now + timedelta(seconds=4 * resend_s))
    else:
        ends_at = alert.ends_at
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": alert.starts_at,
        "endsAt": ends_at,
        "generatorURL": alert.generator_url,
    }


class AlertmanagerClient:
    """Posts notifications to ``<url>/api/v2/alerts`` and re-sends what still fires."""

    def __init__(
        self,
        url: str,
        clock: TimeSource,
        *,
        bearer_token: str | None = None,
        timeout_s: float = 5.0,
        resend_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.clock = clock
        self.resend_s = resend_s
        headers = {"User-Agent": "selfheal-ml-alertmanager-client"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        self._client = httpx.Client(timeout=timeout_s, transport=transport, headers=headers)
        self._firing: dict[str, WebhookAlert] = {}
        self._lock = threading.Lock()

    def firing(self) -> list[WebhookAlert]:
        """The alerts being re-sent, by fingerprint order."""
        with self._lock:
            return [self._firing[key] for key in sorted(self._firing)]

    def post_payload(self, payload: WebhookPayload) -> None:
        """Post every alert of ``payload``; remember the firing ones, forget the resolved."""
        with self._lock:
            for alert in payload.alerts:
                if alert.status == "firing":
                    self._firing[alert.fingerprint] = alert
                else:
                    self._firing.pop(alert.fingerprint, None)
        self._post(list(payload.alerts))

    def resend_firing(self) -> None:
        """Post the firing alerts again with a fresh ``endsAt`` (nothing to do: no request)."""
        alerts = self.firing()
        if alerts:
            self._post(alerts)

    def _post(self, alerts: list[WebhookAlert]) -> None:
        now = self.clock.now()
        body = [postable_alert(alert, now, self.resend_s) for alert in alerts]
        response = self._client.post(self.url, json=body)
        response.raise_for_status()

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()
