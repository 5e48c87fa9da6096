"""One monitoring round's verdict as events: threshold alerts and per-platform health.

The Monitor agent collects and judges a round (:class:`~selfheal_ml.monitoring.ThresholdTracker`
says what started, is due for a resend, or cleared); this turns those changes into the events
everyone else reads: an ``AlertRaised`` per change (firing or cleared, described by the finding
as it was when the condition started, so a value that wobbles while it holds does not rewrite
the alert) and one ``HealthChecked`` per platform, rolled up with :func:`platform_health`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from selfheal_ml.events import AlertRaised, HealthChecked
from selfheal_ml.monitoring.health import platform_health
from selfheal_ml.monitoring.thresholds import Changes, Tracked


def round_events(
    ts: datetime, source: str, changes: Changes, platforms: Iterable[str]
) -> list[AlertRaised | HealthChecked]:
    """The alerts of ``changes`` (started and resent firing, then cleared) and the health of
    every platform in ``platforms`` (sorted by name)."""
    produced: list[AlertRaised | HealthChecked] = [
        alert_of(tracked, ts, source, firing=True) for tracked in changes.started + changes.resent
    ]
    produced += [alert_of(tracked, ts, source, firing=False) for tracked in changes.cleared]
    holding = changes.holding
    for platform, status in sorted(platform_health(platforms, holding).items()):
        detail = "; ".join(
            f.summary for f in holding if f.labels.get("platform", platform) == platform
        )
        produced.append(
            HealthChecked(ts=ts, source=source, target=platform, status=status, detail=detail)
        )
    return produced


def alert_of(tracked: Tracked, ts: datetime, source: str, *, firing: bool) -> AlertRaised:
    """The ``AlertRaised`` for a tracked condition, firing or cleared."""
    finding = tracked.first or tracked.finding  # stable while the condition holds
    annotations = {"summary": finding.summary, "value": f"{finding.value:g}"}
    if finding.metric:
        annotations["metric"] = finding.metric
    return AlertRaised(
        ts=ts,
        source=source,
        correlation_id=tracked.correlation_id,
        alertname=finding.alertname,
        severity=finding.severity,
        labels=dict(finding.labels),
        annotations=annotations,
        firing=firing,
    )
