"""Endpoint rules: slow and hot HTTP endpoints, from the scraped request histograms.

The Monitor turns an application's request histograms into per-endpoint series
(``http_requests_per_s``, ``http_latency_p95_ms``, ``http_latency_p99_ms``, labels
``platform`` and ``endpoint``); :class:`EndpointStats` is one endpoint over the optimisation
window (mean traffic, median p95/p99: one spike is not a slow endpoint).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from selfheal_ml.performance.findings import Finding
from selfheal_ml.performance.thresholds import PerformanceThresholds


@dataclass(frozen=True)
class EndpointStats:
    """One endpoint of one platform over the window."""

    platform: str
    endpoint: str
    requests_per_s: float
    p95_ms: float | None = None
    p99_ms: float | None = None
    samples: int = 0

    @property
    def name(self) -> str:
        """``platform endpoint``, as findings name it."""
        return f"{self.platform} {self.endpoint}"


def endpoint_findings(
    endpoints: Sequence[EndpointStats], thresholds: PerformanceThresholds
) -> list[Finding]:
    """``slow_endpoint``: a median p95 of at least ``endpoint_p95_ms``; ``hot_endpoint``: an
    endpoint serving at least ``hot_endpoint_share`` of its platform's requests with a p95 of
    at least ``hot_endpoint_p95_ms`` (not also slow). Endpoints under
    ``min_endpoint_requests_per_s`` are not judged.

    >>> hot = EndpointStats("shop", "/search", 40.0, p95_ms=320.0, p99_ms=900.0)
    >>> quiet = EndpointStats("shop", "/health", 2.0, p95_ms=3.0)
    >>> slow = EndpointStats("shop", "/report", 1.5, p95_ms=2400.0)
    >>> [(f.kind, f.endpoint) for f in endpoint_findings([hot, quiet, slow],
    ...                                                  PerformanceThresholds())]
    [('slow_endpoint', 'shop /report'), ('hot_endpoint', 'shop /search')]
    """
    totals: dict[str, float] = defaultdict(float)
    for endpoint in endpoints:
        totals[endpoint.platform] += endpoint.requests_per_s
    slow, hot = [], []
    for endpoint in endpoints:
        if endpoint.requests_per_s < thresholds.min_endpoint_requests_per_s:
            continue
        if endpoint.p95_ms is None:
            continue
        share = endpoint.requests_per_s / totals[endpoint.platform]
        evidence = {
            "requests_per_s": round(endpoint.requests_per_s, 3),
            "share_of_platform_requests": round(share, 3),
            "p95_ms": round(endpoint.p95_ms, 1),
            "p99_ms": None if endpoint.p99_ms is None else round(endpoint.p99_ms, 1),
            "samples": endpoint.samples,
        }
        if endpoint.p95_ms >= thresholds.endpoint_p95_ms:
            slow.append(_finding("slow_endpoint", endpoint, evidence, thresholds.endpoint_p95_ms))
        elif share >= thresholds.hot_endpoint_share and (
            endpoint.p95_ms >= thresholds.hot_endpoint_p95_ms
        ):
            hot.append(_finding("hot_endpoint", endpoint, evidence, thresholds.hot_endpoint_p95_ms))
    return slow + hot


def _finding(
    kind: str, endpoint: EndpointStats, evidence: dict[str, float | int | None], limit: float
) -> Finding:
    share = evidence["share_of_platform_requests"] or 0.0
    if kind == "slow_endpoint":
        summary = f"{endpoint.name}: p95 {endpoint.p95_ms:.0f} ms (threshold {limit:.0f} ms)"
        advice = (
            "profile the endpoint's slowest requests (its queries, external calls); move"
            " long work to a background job"
        )
    else:
        summary = (
            f"{endpoint.name}: {share:.0%} of the platform's requests"
            f" ({endpoint.requests_per_s:.1f}/s) at p95 {endpoint.p95_ms:.0f} ms"
        )
        advice = "cache its responses or the data it reads (Redis), and tune its queries first"
    return Finding(
        kind="slow_endpoint" if kind == "slow_endpoint" else "hot_endpoint",
        summary=summary,
        endpoint=endpoint.name,
        evidence={**evidence, "threshold_ms": limit},
        recommendation=advice,
    )
