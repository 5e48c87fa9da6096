"""The optimisation window's per-endpoint traffic and latency, from collected metric points.

:class:`EndpointWindow` is fed the Monitor's points between two optimisation rounds and
gives each endpoint's :class:`~selfheal_ml.performance.endpoint_rules.EndpointStats` (mean
requests per second, median p95 and p99) and each platform's request count over the window
(mean rate times the window's length: the denominator of calls per request for N+1 loops).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.performance.endpoint_rules import EndpointStats

_FIELDS = {
    mc.HTTP_REQUESTS_PER_S: "rate",
    mc.HTTP_LATENCY_P95_MS: "p95",
    mc.HTTP_LATENCY_P99_MS: "p99",
}


class EndpointWindow:
    """Accumulates per-endpoint points since :meth:`reset`.

    >>> from datetime import UTC, datetime, timedelta
    >>> start = datetime(2026, 12, 2, tzinfo=UTC)
    >>> window = EndpointWindow(start)
    >>> labels = {"platform": "shop", "endpoint": "/orders"}
    >>> for minute, p95 in enumerate((80.0, 90.0, 900.0)):
    ...     at = start + timedelta(minutes=minute + 1)
    ...     window.add("http_requests_per_s", labels, 10.0, at)
    ...     window.add("http_latency_p95_ms", labels, p95, at)
    >>> [(e.endpoint, e.requests_per_s, e.p95_ms) for e in window.endpoints()]
    [('/orders', 10.0, 90.0)]
    >>> window.requests("shop", start + timedelta(minutes=3))
    1800
    """

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def add(self, name: str, labels: Mapping[str, str], value: float, at: datetime) -> None:
        """One point (ignored unless an endpoint series of a labelled platform)."""
        field = _FIELDS.get(name)
        platform, endpoint = labels.get("platform"), labels.get("endpoint")
        if field is None or not platform or not endpoint or value != value:  # NaN
            return
        self._values[(platform, endpoint)][field].append(value)

    def endpoints(self) -> list[EndpointStats]:
        """Each endpoint seen with a request rate, by platform and endpoint."""
        stats = []
        for (platform, endpoint), values in sorted(self._values.items()):
            if not values["rate"]:
                continue
            stats.append(
                EndpointStats(
                    platform,
                    endpoint,
                    requests_per_s=statistics.fmean(values["rate"]),
                    p95_ms=statistics.median(values["p95"]) if values["p95"] else None,
                    p99_ms=statistics.median(values["p99"]) if values["p99"] else None,
                    samples=len(values["rate"]),
                )
            )
        return stats

    def requests(self, platform: str, now: datetime) -> int | None:
        """The platform's requests over the window (``None`` without a request rate)."""
        rates = [
            statistics.fmean(values["rate"])
            for (name, _), values in self._values.items()
            if name == platform and values["rate"]
        ]
        if not rates:
            return None
        return round(sum(rates) * max(0.0, (now - self.start).total_seconds()))

    def reset(self, start: datetime) -> None:
        """Start a new window at ``start``."""
        self.start = start
        self._values.clear()
