"""The Alertmanager webhook payload (version 4) and how a group's alerts become one.

Every notifier receives a :class:`WebhookPayload`; ``payload.to_json()`` is byte-for-byte the
JSON shape Alertmanager posts to a ``webhook_config`` receiver (camelCase keys, RFC3339 times,
the Go zero time ``0001-01-01T00:00:00Z`` for the end of a still-firing alert), so anything
that consumes Alertmanager webhooks consumes ours.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.alerting.model import fingerprint
>>> moment = datetime(2026, 1, 5, tzinfo=UTC)
>>> alert = Alert(alert_id="a1", fingerprint=fingerprint({"alertname": "X"}),
...     labels={"alertname": "X", "severity": "info"}, severity="info", status="firing",
...     starts_at=moment, ends_at=moment, updated_at=moment)
>>> payload = build_payload([alert], group_key='{}:{alertname="X"}', group_labels={
...     "alertname": "X"}, receiver="selfheal-ml", external_url="http://localhost:8000")
>>> payload.to_json()["status"], payload.to_json()["alerts"][0]["endsAt"]
('firing', '0001-01-01T00:00:00Z')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from selfheal_ml.alerting.model import Alert, AlertStatus, format_rfc3339


class WebhookAlert(BaseModel):
    """One entry of ``alerts[]`` in the webhook payload."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str = Field(alias="startsAt")
    ends_at: str = Field(alias="endsAt")
    generator_url: str = Field(alias="generatorURL")
    fingerprint: str


class WebhookPayload(BaseModel):
    """The Alertmanager webhook v4 body for one notification of one alert group."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    version: Literal["4"] = "4"
    group_key: str = Field(alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: AlertStatus
    receiver: str
    group_labels: dict[str, str] = Field(alias="groupLabels")
    common_labels: dict[str, str] = Field(alias="commonLabels")
    common_annotations: dict[str, str] = Field(alias="commonAnnotations")
    external_url: str = Field(alias="externalURL")
    alerts: tuple[WebhookAlert, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict with Alertmanager's key names."""
        return self.model_dump(mode="json", by_alias=True)

    def truncated(self, max_alerts: int) -> WebhookPayload:
        """Keep the first ``max_alerts`` alerts (0 keeps all) and count the rest.

        >>> WebhookPayload(group_key="k", status="resolved", receiver="r", group_labels={},
        ...     common_labels={}, common_annotations={}, external_url="", alerts=()
        ... ).truncated(1).truncated_alerts
        0
        """
        if max_alerts <= 0 or len(self.alerts) <= max_alerts:
            return self
        dropped = len(self.alerts) - max_alerts
        return self.model_copy(
            update={"alerts": self.alerts[:max_alerts], "truncated_alerts": dropped}
        )


class Notification(BaseModel):
    """One group notification: the payload and which notifiers took it or failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_key: str
    sent_at: AwareDatetime
    payload: WebhookPayload
    delivered_to: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def dashboard_link(external_url: str, alert_fingerprint: str) -> str:
    """The ``generatorURL`` of an alert that has none: the dashboard, at that alert.

    >>> dashboard_link("https://selfheal.example.com/", "0a1b")
    'https://selfheal.example.com/admin/#alert=0a1b'
    """
    return f"{external_url.rstrip('/')}/admin/#alert={alert_fingerprint}"


def one_state_per_alert(alerts: Sequence[Alert]) -> list[Alert]:
    """Keep one entry per fingerprint: the newest (an alert that resolved and fired again
    before the group was flushed is in the group twice; a receiver must see it once).

    >>> from datetime import datetime, timedelta, UTC
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def alert(status, start):
    ...     return Alert(alert_id=status, fingerprint="f", labels={"alertname": "X"},
    ...         severity="info", status=status, starts_at=start, ends_at=start, updated_at=start)
    >>> [a.status for a in one_state_per_alert([alert("resolved", t),
    ...     alert("firing", t + timedelta(minutes=1))])]
    ['firing']
    """
    newest: dict[str, Alert] = {}
    for alert in alerts:
        kept = newest.get(alert.fingerprint)
        if kept is None or (alert.starts_at, alert.status == "firing") > (
            kept.starts_at,
            kept.status == "firing",
        ):
            newest[alert.fingerprint] = alert
    return [alert for alert in alerts if newest[alert.fingerprint] is alert]


def webhook_alert(alert: Alert, external_url: str = "") -> WebhookAlert:
    """One alert in webhook form; a firing alert's end is hidden (Go zero time); without a
    ``generator_url`` of its own, the alert links the dashboard under ``external_url``."""
    ends_at = alert.ends_at if alert.status == "resolved" else None
    generator_url = alert.generator_url
    if not generator_url and external_url:
        generator_url = dashboard_link(external_url, alert.fingerprint)
    return WebhookAlert(
        status=alert.status,
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        starts_at=format_rfc3339(alert.starts_at),
        ends_at=format_rfc3339(ends_at),
        generator_url=generator_url,
        fingerprint=alert.fingerprint,
    )


def common_pairs(mappings: Sequence[dict[str, str]]) -> dict[str, str]:
    """The name/value pairs shared by every mapping.

    >>> common_pairs([{"a": "1", "b": "2"}, {"a": "1", "b": "3"}])
    {'a': '1'}
    >>> common_pairs([])
    {}
    """
    if not mappings:
        return {}
    first, *rest = mappings
    return {
        name: value
        for name, value in first.items()
        if all(other.get(name) == value for other in rest)
    }


def build_payload(
    alerts: Sequence[Alert],
    *,
    group_key: str,
    group_labels: dict[str, str],
    receiver: str,
    external_url: str,
) -> WebhookPayload:
    """The webhook body for ``alerts`` of one group: one state per alert (the newest), firing
    first, each part by start time."""
    ordered = sorted(
        one_state_per_alert(alerts),
        key=lambda a: (a.status != "firing", a.starts_at, a.fingerprint),
    )
    status: AlertStatus = "firing" if any(a.status == "firing" for a in ordered) else "resolved"
    return WebhookPayload(
        group_key=group_key,
        status=status,
        receiver=receiver,
        group_labels=dict(group_labels),
        common_labels=common_pairs([a.labels for a in ordered]),
        common_annotations=common_pairs([a.annotations for a in ordered]),
        external_url=external_url,
        alerts=tuple(webhook_alert(a, external_url) for a in ordered),
    )
