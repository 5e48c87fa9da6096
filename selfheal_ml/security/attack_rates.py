"""The attack-rate series: what the Security agent reads, as metrics the Predictive agent
scores and forecasts like any other series.

Pure: :class:`AttackRates` counts the records and findings of each read and, once a window of
``window_s`` has passed (one minute: the metrics interval of the seed), closes it into
:class:`~selfheal_ml.events.MetricPoint` values stamped at the window's end:

| series | value |
|---|---|
| ``security_failed_logins_per_s`` | refused logins and unknown accounts per second |
| ``security_client_errors_per_s`` | requests answered 4xx per second |
| ``security_requests_per_s`` | requests and logins per second |
| ``security_confirmed_findings`` | confirmed attacks found in the window (brute force, ...) |
| ``security_bans_active`` | addresses under an enforced ban at the window's end |

Each carries the label ``target="security"`` (the Diagnostic agent's component for them).
Rates are per second of the window, so a quiet window is a 0, not a gap: a recurrence shows
as a rise from a learned baseline.

>>> from datetime import datetime, timedelta, UTC
>>> from selfheal_ml.security.records import EventKind, LogRecord
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> rates = AttackRates(t0, window_s=60.0)
>>> rates.add([LogRecord(t0, EventKind.LOGIN_FAILED, "192.0.2.1")] * 30, confirmed=0)
>>> rates.close(t0 + timedelta(seconds=30), bans_active=0)
[]
>>> points = rates.close(t0 + timedelta(seconds=60), bans_active=1)
>>> [point.value for point in points if point.series.startswith("security_failed_logins")]
[0.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from selfheal_ml.events import MetricPoint, series_key
from selfheal_ml.security.records import EventKind, LogRecord

LABELS = {"target": "security"}
FAILED = (EventKind.LOGIN_FAILED, EventKind.INVALID_USER)
COUNTED = (EventKind.LOGIN_FAILED, EventKind.INVALID_USER, EventKind.LOGIN_OK, EventKind.REQUEST)


class AttackRates:
    """Counts per window, closed into metric points (module docstring)."""

    def __init__(self, start: datetime, window_s: float = 60.0) -> None:
        self.window_start = start
        self.window_s = window_s
        self.failed = 0
        self.client_errors = 0
        self.requests = 0
        self.confirmed = 0

    def add(self, records: Sequence[LogRecord], confirmed: int) -> None:
        """Count one read's records and its confirmed findings."""
        for record in records:
            if record.kind in FAILED:
                self.failed += record.occurrences
            if record.kind in COUNTED:
                self.requests += record.occurrences
            if record.kind is EventKind.REQUEST and 400 <= record.status < 500:
                self.client_errors += 1
        self.confirmed += confirmed

    def close(self, now: datetime, bans_active: int) -> list[MetricPoint]:
        """The window's points when ``window_s`` has passed since it opened, else nothing."""
        elapsed = (now - self.window_start).total_seconds()
        if elapsed < self.window_s:
            return []
        values = {
            "security_failed_logins_per_s": self.failed / elapsed,
            "security_client_errors_per_s": self.client_errors / elapsed,
            "security_requests_per_s": self.requests / elapsed,
            "security_confirmed_findings": float(self.confirmed),
            "security_bans_active": float(bans_active),
        }
        self.window_start = now
        self.failed = self.client_errors = self.requests = self.confirmed = 0
        return [
            MetricPoint(series=series_key(name, LABELS), ts=now, value=value, labels=dict(LABELS))
            for name, value in values.items()
        ]
