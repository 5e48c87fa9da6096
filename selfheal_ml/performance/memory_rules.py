"""The ``memory_leak`` finding: a memory series the Predictive agent forecasts to its limit."""

from __future__ import annotations

from datetime import datetime

from selfheal_ml.performance.findings import Finding

#: Series names (before their labels) that measure memory; their predicted breaches are leaks.
MEMORY_WORDS = ("memory", "rss")


def is_memory_series(series: str) -> bool:
    """Whether ``series`` measures memory use.

    >>> is_memory_series('host_memory_percent{host="a"}'), is_memory_series("http_5xx_per_s")
    (True, False)
    """
    name = series.split("{", 1)[0].lower()
    return any(word in name for word in MEMORY_WORDS)


def memory_leak(
    series: str, limit: float, eta: datetime, probability: float, now: datetime
) -> Finding:
    """A rising memory series forecast to reach ``limit`` at ``eta`` (``probability``): a leak
    to find before it takes the process down.

    >>> from datetime import UTC, datetime, timedelta
    >>> now = datetime(2026, 12, 2, tzinfo=UTC)
    >>> leak = memory_leak("host_memory_percent", 95.0, now + timedelta(hours=5), 0.8, now)
    >>> leak.kind, leak.evidence["hours_to_limit"]
    ('memory_leak', 5.0)
    """
    hours = max(0.0, (eta - now).total_seconds() / 3600.0)
    return Finding(
        kind="memory_leak",
        summary=f"{series} is forecast to reach {limit:g} in {hours:.1f} h"
        f" (probability {probability:.0%})",
        endpoint=series,
        evidence={
            "limit": limit,
            "eta": eta.isoformat(),
            "hours_to_limit": round(hours, 2),
            "probability": round(probability, 3),
        },
        recommendation="compare heap snapshots (tracemalloc, memray) an hour apart to find what"
        " grows; restart the process before the limit as a stopgap",
    )
