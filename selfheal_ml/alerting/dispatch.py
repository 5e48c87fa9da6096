"""Grouping and the notify-or-not decision, as pure functions (Alertmanager's dispatcher).

Alerts whose ``group_by`` labels agree form one aggregation group, notified together. A new
group waits ``group_wait`` before its first notification (so related alerts arrive and ride
along), then is looked at every ``group_interval``. At each look, a notifier gets the group
when :func:`needs_update` says so: new firing alerts, alerts it was told were firing that have
since resolved, or nothing new but ``repeat_interval`` has passed since it was last told.

>>> group_labels({"alertname": "X", "env": "prod", "severity": "info"}, ("alertname", "env"))
{'alertname': 'X', 'env': 'prod'}
>>> group_key({"alertname": "X"})
'{}:{alertname="X"}'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.alerting.model import label_set_text

ALL_LABELS = "..."


def group_labels(labels: dict[str, str], group_by: Sequence[str]) -> dict[str, str]:
    """The grouping labels present on an alert; ``...`` in ``group_by`` means every label."""
    if ALL_LABELS in group_by:
        return dict(labels)
    return {name: labels[name] for name in group_by if name in labels}


def group_key(labels_of_group: dict[str, str]) -> str:
    """Alertmanager's group key for the root route: ``{}:`` plus the group's label set."""
    return "{}:" + label_set_text(labels_of_group)


def first_flush_at(now: datetime, starts_at: datetime, group_wait_s: float) -> datetime:
    """When a new group flushes first: after ``group_wait``, sooner if the alert is old.

    Like Alertmanager, an alert that started more than ``group_wait`` ago flushes at once.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> first_flush_at(t, t, 30).second, first_flush_at(t, t - timedelta(hours=1), 30) == t
    (30, True)
    """
    wait = timedelta(seconds=group_wait_s)
    return max(now, min(now + wait, starts_at + wait))


def new_group_row(
    labels: dict[str, str],
    group_by: Sequence[str],
    now: datetime,
    oldest_start: datetime,
    group_wait_s: float,
) -> dict[str, Any]:
    """The store row of a new group for an alert with ``labels`` (see :func:`first_flush_at`)."""
    grouping = group_labels(labels, group_by)
    return {
        "group_key": group_key(grouping),
        "group_labels": grouping,
        "created_at": now,
        "next_flush_at": first_flush_at(now, oldest_start, group_wait_s),
    }


@dataclass(frozen=True)
class LogEntry:
    """What one notifier was last told about a group, and when."""

    notified_at: datetime
    firing: frozenset[str]
    resolved: frozenset[str]


def needs_update(
    entry: LogEntry | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    now: datetime,
    repeat_interval_s: float,
) -> bool:
    """Alertmanager's ``DedupStage.needsUpdate`` with ``send_resolved`` on.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> needs_update(None, frozenset({"a"}), frozenset(), t, 3600)
    True
    >>> told = LogEntry(t, frozenset({"a"}), frozenset())
    >>> needs_update(told, frozenset({"a"}), frozenset(), t + timedelta(minutes=5), 3600)
    False
    >>> needs_update(told, frozenset({"a"}), frozenset(), t + timedelta(hours=1), 3600)
    True
    """
    if entry is None:
        return bool(firing)
    if not firing <= entry.firing:
        return True
    if not firing:
        return bool(entry.firing)
    if not resolved <= entry.resolved:
        return True
    return entry.notified_at <= now - timedelta(seconds=repeat_interval_s)
