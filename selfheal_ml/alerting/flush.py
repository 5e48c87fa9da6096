"""One group flush: which alerts to show, which notifiers are due, what leaves the group.

Pure: the AlertManager reads the group's members and notification log from its store, calls
:func:`plan_flush` under its lock, then delivers the plan outside the lock.

Silenced firing alerts are left out. A resolved alert is shown unless it is silenced and no
notifier was ever told it was firing (so receivers always hear the end of what they were told).
After a successful flush every resolved member leaves the group.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selfheal_ml.alerting.dispatch import LogEntry, needs_update
from selfheal_ml.alerting.model import Alert
from selfheal_ml.alerting.notifiers import Notifier
from selfheal_ml.alerting.payload import WebhookPayload, build_payload, one_state_per_alert

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlushPlan:
    """A group notification decided under the lock, delivered outside it."""

    group_key: str
    payload: WebhookPayload | None
    firing: frozenset[str]
    resolved: frozenset[str]
    due: tuple[str, ...]
    release: tuple[str, ...]
    closing: bool  # no member was firing: the group may end after this flush


def log_entries(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, LogEntry]:
    """Notification-log rows (per notifier) as :class:`LogEntry` values."""
    return {
        name: LogEntry(row["notified_at"], frozenset(row["firing"]), frozenset(row["resolved"]))
        for name, row in rows.items()
    }


def visible_alerts(members: Sequence[Alert], log: Mapping[str, LogEntry]) -> list[Alert]:
    """The members a notification shows (see the module docstring)."""
    told: frozenset[str] = frozenset().union(*(entry.firing for entry in log.values()))
    return [
        alert
        for alert in members
        if not alert.silenced or (alert.status == "resolved" and alert.fingerprint in told)
    ]


def plan_flush(
    key: str,
    group_labels: dict[str, str],
    members: Sequence[Alert],
    log: Mapping[str, LogEntry],
    *,
    notifier_names: Sequence[str],
    now: datetime,
    repeat_interval_s: float,
    receiver: str,
    external_url: str,
) -> FlushPlan:
    """Decide one flush of group ``key`` for each notifier."""
    visible = one_state_per_alert(visible_alerts(members, log))
    firing = frozenset(a.fingerprint for a in visible if a.status == "firing")
    resolved = frozenset(a.fingerprint for a in visible if a.status == "resolved")
    due = tuple(
        name
        for name in notifier_names
        if visible and needs_update(log.get(name), firing, resolved, now, repeat_interval_s)
    )
    payload = None
    if due:
        payload = build_payload(
            visible,
            group_key=key,
            group_labels=group_labels,
            receiver=receiver,
            external_url=external_url,
        )
    release = tuple(a.alert_id for a in members if a.status == "resolved")
    closing = all(a.status == "resolved" for a in members)
    return FlushPlan(key, payload, firing, resolved, due, release, closing)


def send_safely(notifier: Notifier, payload: WebhookPayload) -> str | None:
    """Send; a failure is logged and returned as text (``None`` on success), never raised."""
    try:
        notifier.send(payload)
    except Exception as exc:
        _LOGGER.warning(
            "notifier %s failed for group %s: %r",
            notifier.name,
            payload.group_key,
            exc,
            extra={"notifier": notifier.name, "group_key": payload.group_key},
        )
        return f"{type(exc).__name__}: {exc}"
    return None


def delivery_row(
    plan: FlushPlan, payload: WebhookPayload, notifier: str, now: datetime, error: str | None
) -> dict[str, Any]:
    """The store row for one delivery attempt of ``plan`` to ``notifier``."""
    return {
        "ts": now,
        "group_key": plan.group_key,
        "notifier": notifier,
        "status": payload.status,
        "alerts": len(payload.alerts),
        "ok": error is None,
        "error": error,
        "firing": plan.firing,
        "resolved": plan.resolved,
    }
