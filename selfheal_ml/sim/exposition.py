"""Prometheus text exposition (format 0.0.4) of the simulated platforms.

Cumulative counters integrate the frames over time: requests by endpoint and status class,
a latency histogram (``http_request_duration_seconds`` with the default Prometheus buckets,
filled from each endpoint's log-normal latency), auth attempts and failures, business events.
Everything else is a gauge. A restart of a platform's service resets its counters, as a real
process restart would, so scrapers must handle counter resets.

The shared PostgreSQL and Redis are exposed once each, on their own page (what a
postgres_exporter or redis_exporter would serve), labelled ``dependency`` and never
``platform``: repeated on every platform's page, one database symptom would reach the service
as one series per platform, and so as one anomaly per platform.

>>> print(format_sample("up", {"platform": "leadsite.ai"}, 1.0))
up{platform="leadsite.ai"} 1.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from selfheal_ml.sim.dynamics import Frame, Layout
from selfheal_ml.sim.effects import BoolArray, FloatArray
from selfheal_ml.sim.platforms import PlatformSpec

BUCKETS_S: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATUS_CLASSES = ("2xx", "4xx", "5xx")
#: The shared dependencies, each exposed on a page of its own.
DEPENDENCIES: tuple[str, ...] = ("postgres", "redis")


def normal_cdf(z: FloatArray) -> FloatArray:
    """Standard normal CDF, vectorised (Abramowitz-Stegun 7.1.26, error < 1.5e-7).

    >>> [round(float(v), 4) for v in normal_cdf(np.array([-1.96, 0.0, 1.645]))]
    [0.025, 0.5, 0.95]
    """
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-x * x)
    cdf: FloatArray = 0.5 * (1.0 + np.sign(z) * erf)
    return cdf


@dataclass
class Counters:
    """Cumulative counters since start (or since the platform's last restart)."""

    requests: FloatArray
    latency_sum_s: FloatArray
    buckets: FloatArray
    auth_attempts: FloatArray
    auth_failures: FloatArray
    business: FloatArray

    @classmethod
    def zeros(cls, layout: Layout) -> Counters:
        """All counters at zero."""
        endpoints, platforms = layout.endpoint_count, layout.platform_count
        return cls(
            requests=np.zeros((endpoints, len(STATUS_CLASSES))),
            latency_sum_s=np.zeros(endpoints),
            buckets=np.zeros((endpoints, len(BUCKETS_S))),
            auth_attempts=np.zeros(platforms),
            auth_failures=np.zeros(platforms),
            business=np.zeros(layout.event_platform.size),
        )

    def accumulate(self, frames: Frame, dts_s: FloatArray) -> None:
        """Add a batch of steps: each frame's rates over its step length (``dts_s``, (T,))."""
        step = dts_s[:, None]
        count = frames.rps * step
        ok = 1.0 - frames.error4 - frames.error5
        self.requests += np.stack(
            [(count * ok).sum(0), (count * frames.error4).sum(0), (count * frames.error5).sum(0)],
            axis=1,
        )
        mean_s = frames.p50_ms / 1000.0 * np.exp(0.5 * frames.sigma**2)
        self.latency_sum_s += (count * mean_s).sum(0)
        log_bounds = np.log(np.array(BUCKETS_S) * 1000.0)
        z = (log_bounds[None, None, :] - np.log(frames.p50_ms)[:, :, None]) / frames.sigma[
            :, :, None
        ]
        self.buckets += np.einsum("te,teb->eb", count, normal_cdf(z))
        self.auth_attempts += (frames.auth_attempts * step).sum(0)
        self.auth_failures += (frames.auth_failures * step).sum(0)
        self.business += (frames.business_per_min * step).sum(0) / 60.0

    def reset(self, layout: Layout, platform: int) -> None:
        """Zero one platform's counters (its process restarted)."""
        endpoints: BoolArray = layout.masks.platform_of == platform
        self.requests[endpoints] = 0.0
        self.latency_sum_s[endpoints] = 0.0
        self.buckets[endpoints] = 0.0
        self.auth_attempts[platform] = 0.0
        self.auth_failures[platform] = 0.0
        self.business[layout.event_platform == platform] = 0.0


def format_sample(name: str, labels: dict[str, str], value: float) -> str:
    """One exposition line."""
    if not labels:
        return f"{name} {value!r}"
    inner = ",".join(f'{key}="{val}"' for key, val in labels.items())
    return f"{name}{{{inner}}} {value!r}"


def _family(name: str, kind: str, help_text: str, lines: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]


@dataclass(frozen=True)
class _EndpointLines:
    """The fixed start of every line one endpoint exposes (name and labels, then a space):
    the page is rendered every scrape, and formatting its ~600 label sets was most of it."""

    platform: int
    requests: tuple[str, ...]  # one per status class
    buckets: tuple[str, ...]  # one per finite bound, then +Inf
    sum: str
    count: str


def _prefix(name: str, labels: dict[str, str]) -> str:
    """``format_sample``'s line without its value."""
    return format_sample(name, labels, 0.0)[: -len(repr(0.0))]


@functools.lru_cache(maxsize=8)
def _endpoint_lines(platforms: tuple[PlatformSpec, ...]) -> tuple[_EndpointLines, ...]:
    lines = []
    for platform, spec in enumerate(platforms):
        for endpoint in spec.endpoints:
            labels = {"platform": spec.name, "endpoint": endpoint.path}
            bucket = "http_request_duration_seconds_bucket"
            bounds = [repr(bound) for bound in BUCKETS_S] + ["+Inf"]
            lines.append(
                _EndpointLines(
                    platform,
                    tuple(
                        _prefix("http_requests_total", {**labels, "status_class": status})
                        for status in STATUS_CLASSES
                    ),
                    tuple(_prefix(bucket, {**labels, "le": bound}) for bound in bounds),
                    _prefix("http_request_duration_seconds_sum", labels),
                    _prefix("http_request_duration_seconds_count", labels),
                )
            )
    return tuple(lines)


def _endpoint_families(layout: Layout, counters: Counters, selected: list[int]) -> list[str]:
    requests, histogram = [], []
    buckets = np.maximum.accumulate(counters.buckets, axis=1)  # exact monotonicity
    for index, prefixes in enumerate(_endpoint_lines(layout.platforms)):
        if prefixes.platform not in selected:
            continue
        counts = counters.requests[index].tolist()
        requests += [
            prefix + repr(value) for prefix, value in zip(prefixes.requests, counts, strict=True)
        ]
        total = max(float(counters.requests[index].sum()), float(buckets[index, -1]))
        values = [*buckets[index].tolist(), total]
        histogram += [
            prefix + repr(value) for prefix, value in zip(prefixes.buckets, values, strict=True)
        ]
        histogram.append(prefixes.sum + repr(float(counters.latency_sum_s[index])))
        histogram.append(prefixes.count + repr(total))
    return _family(
        "http_requests_total", "counter", "HTTP requests by status class.", requests
    ) + _family("http_request_duration_seconds", "histogram", "HTTP request latency.", histogram)


def _platform_families(
    layout: Layout, frame: Frame, counters: Counters, selected: list[int]
) -> list[str]:
    names = [layout.platforms[index].name for index in selected]
    lines: list[str] = []
    per_platform: tuple[tuple[str, str, str, FloatArray], ...] = (
        ("auth_attempts_total", "counter", "Login attempts.", counters.auth_attempts),
        ("auth_failures_total", "counter", "Failed login attempts.", counters.auth_failures),
        ("background_job_queue_depth", "gauge", "Jobs waiting.", frame.job_queue),
        (
            "background_job_last_success_age_s",
            "gauge",
            "Seconds since the job last succeeded.",
            frame.job_age_s,
        ),
    )
    for name, kind, help_text, values in per_platform:
        samples = [
            format_sample(name, {"platform": platform}, float(values[index]))
            for platform, index in zip(names, selected, strict=True)
        ]
        lines += _family(name, kind, help_text, samples)
    lines += _host_families(layout, frame, selected)
    business = []
    events = [
        (index, event.name)
        for index, spec in enumerate(layout.platforms)
        for event in spec.business_events
    ]
    for position, (index, event) in enumerate(events):
        if index in selected:
            labels = {"platform": layout.platforms[index].name, "event": event}
            business.append(
                format_sample("business_events_total", labels, float(counters.business[position]))
            )
    return lines + _family("business_events_total", "counter", "Business events.", business)


def _host_families(layout: Layout, frame: Frame, selected: list[int]) -> list[str]:
    lines: list[str] = []
    host_metrics = (
        ("host_cpu_percent", frame.cpu),
        ("host_memory_percent", frame.memory),
        ("host_disk_percent", frame.disk),
    )
    for name, values in host_metrics:
        samples = [
            format_sample(
                name,
                {"platform": layout.platforms[index].name, "host": layout.platforms[index].host},
                float(values[index]),
            )
            for index in selected
        ]
        lines += _family(name, "gauge", f"Host {name.split('_')[1]} use in percent.", samples)
    return lines


def _dependency_families(frame: Frame, dependencies: Sequence[str]) -> list[str]:
    gauges = (
        ("db_up", "postgres", "1 if PostgreSQL answers.", frame.db_up),
        ("db_query_duration_ms", "postgres", "Mean query duration.", frame.db_query_ms),
        ("db_connections_in_use", "postgres", "Connections in use.", frame.db_connections),
        ("db_connections_max", "postgres", "Connection pool size.", 100.0),
        ("db_slow_queries_per_s", "postgres", "Queries slower than 1 s.", frame.db_slow_per_s),
        ("cache_hit_ratio", "redis", "Cache hits over lookups.", frame.cache_hit),
        ("redis_memory_used_bytes", "redis", "Redis memory.", frame.redis_bytes),
    )
    lines: list[str] = []
    for name, dependency, help_text, value in gauges:
        if dependency not in dependencies:
            continue
        sample = format_sample(name, {"dependency": dependency}, float(value))
        lines += _family(name, "gauge", help_text, [sample])
    return lines


def render(
    layout: Layout,
    frame: Frame,
    counters: Counters,
    selected: list[int],
    dependencies: Sequence[str] = (),
) -> str:
    """The exposition text for the ``selected`` platforms (indices) and ``dependencies``,
    each family once; ``frame`` is one instant (see :meth:`Frame.row`)."""
    lines: list[str] = []
    if selected:
        lines += _endpoint_families(layout, counters, selected)
        lines += _platform_families(layout, frame, counters, selected)
    lines += _dependency_families(frame, dependencies)
    return "\n".join(lines) + "\n"
