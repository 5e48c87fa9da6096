"""Configured outgoing notifiers (``[[notifiers]]``), built from plain specs.

Each :class:`NotifierSpec` becomes one :class:`~selfheal_ml.alerting.delivery.QueuedNotifier`
(background thread, retries with backoff, counted) around either

- ``webhook``: :class:`~selfheal_ml.alerting.notifiers.WebhookNotifier`, the Alertmanager
  webhook v4 JSON, optional bearer token and ``send_resolved``; or
- ``alertmanager``: :class:`~selfheal_ml.alerting.alertmanager_client.AlertmanagerClient`,
  Alertmanager's API v2 ingest, re-sending firing alerts every ``resend_s``.

>>> counters = DeliveryCounters()
>>> spec = NotifierSpec(kind="webhook", name="ops", url="http://127.0.0.1:9/hook")
>>> notifier = build_notifier(spec, clock=None, counters=counters)
>>> notifier.name, sorted(counters.snapshot())
('ops', ['ops'])
>>> notifier.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from selfheal_ml.alerting.alertmanager_client import AlertmanagerClient
from selfheal_ml.alerting.delivery import DeliveryCounters, QueuedNotifier, RetryPolicy
from selfheal_ml.alerting.notifiers import WebhookNotifier
from selfheal_ml.alerting.ports import TimeSource

NotifierKind = Literal["webhook", "alertmanager"]


@dataclass(frozen=True)
class NotifierSpec:
    """One ``[[notifiers]]`` entry, already validated by the config layer."""

    kind: NotifierKind
    name: str
    url: str
    bearer_token: str | None = None
    send_resolved: bool = True
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_alerts: int = 0
    resend_s: float = 60.0
    queue_size: int = 1000


class _UtcNow:
    """Wall-clock UTC, for a notifier built without a clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def build_notifier(
    spec: NotifierSpec,
    *,
    clock: TimeSource | None,
    counters: DeliveryCounters,
    transport: httpx.BaseTransport | None = None,
) -> QueuedNotifier:
    """The queued notifier of ``spec`` (its thread starts with the first payload)."""
    policy = RetryPolicy(spec.retries, spec.backoff_s, spec.max_backoff_s)
    if spec.kind == "webhook":
        webhook = WebhookNotifier(
            spec.url,
            spec.timeout_s,
            transport,
            max_alerts=spec.max_alerts,
            name=spec.name,
            bearer_token=spec.bearer_token,
            send_resolved=spec.send_resolved,
        )
        return QueuedNotifier(spec.name, webhook.send, policy, counters, queue_size=spec.queue_size)
    client = AlertmanagerClient(
        spec.url,
        clock or _UtcNow(),
        bearer_token=spec.bearer_token,
        timeout_s=spec.timeout_s,
        resend_s=spec.resend_s,
        transport=transport,
    )
    return QueuedNotifier(
        spec.name,
        client.post_payload,
        policy,
        counters,
        queue_size=spec.queue_size,
        periodic=client.resend_firing,
        period_s=spec.resend_s,
        on_close=client.close,
    )


def build_notifiers(
    specs: Sequence[NotifierSpec],
    *,
    clock: TimeSource | None,
    counters: DeliveryCounters,
    transport: httpx.BaseTransport | None = None,
) -> list[QueuedNotifier]:
    """One queued notifier per spec, in order."""
    return [
        build_notifier(spec, clock=clock, counters=counters, transport=transport) for spec in specs
    ]
