"""The series catalogue: which metric series a frame turns into, with names and labels.

The layout is fixed when the simulator is built, so a frame becomes one numpy vector of values
in catalogue order (cheap, for bulk runs) and, on request, :class:`MetricPoint` objects whose
``series`` is :func:`selfheal_ml.events.series_key` of name and labels.

>>> from selfheal_ml.sim.dynamics import Layout
>>> from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS
>>> catalogue = SeriesCatalogue.of(Layout.of(DEFAULT_PLATFORMS))
>>> catalogue.keys[0]
'http_requests_per_s{endpoint="/api/campaigns",platform="leadsite.ai"}'
>>> len(catalogue.keys)
158
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pydantic import TypeAdapter

from selfheal_ml.events import MetricPoint, series_key
from selfheal_ml.sim.catalogue import Symptom
from selfheal_ml.sim.dynamics import Frame, Layout
from selfheal_ml.sim.effects import FloatArray

Extractor = Callable[[Frame], FloatArray]

ENDPOINT_METRICS: tuple[tuple[str, dict[str, str], Extractor], ...] = (
    ("http_requests_per_s", {}, lambda frame: frame.rps),
    ("http_latency_p50_ms", {}, lambda frame: frame.p50_ms),
    ("http_latency_p95_ms", {}, lambda frame: frame.p95_ms),
    ("http_latency_p99_ms", {}, lambda frame: frame.p99_ms),
    ("http_error_ratio", {"status_class": "4xx"}, lambda frame: frame.error4),
    ("http_error_ratio", {"status_class": "5xx"}, lambda frame: frame.error5),
    ("http_5xx_per_s", {}, lambda frame: frame.rps * frame.error5),
)
PLATFORM_METRICS: tuple[tuple[str, Extractor], ...] = (
    ("auth_attempts_per_s", lambda frame: frame.auth_attempts),
    ("auth_failures_per_s", lambda frame: frame.auth_failures),
    ("background_job_queue_depth", lambda frame: frame.job_queue),
    ("background_job_last_success_age_s", lambda frame: frame.job_age_s),
)
HOST_METRICS: tuple[tuple[str, Extractor], ...] = (
    ("host_cpu_percent", lambda frame: frame.cpu),
    ("host_memory_percent", lambda frame: frame.memory),
    ("host_disk_percent", lambda frame: frame.disk),
)
DEPENDENCY_METRICS: tuple[tuple[str, str, Extractor], ...] = (
    ("db_up", "postgres", lambda frame: frame.db_up),
    ("db_query_duration_ms", "postgres", lambda frame: frame.db_query_ms),
    ("db_connections_in_use", "postgres", lambda frame: frame.db_connections),
    ("db_connections_max", "postgres", lambda frame: np.full_like(frame.db_up, 100.0)),
    ("db_slow_queries_per_s", "postgres", lambda frame: frame.db_slow_per_s),
    ("cache_hit_ratio", "redis", lambda frame: frame.cache_hit),
    ("redis_memory_used_bytes", "redis", lambda frame: frame.redis_bytes),
)


def dependencies_moved(symptoms: Sequence[Symptom]) -> tuple[str, ...]:
    """The shared dependencies whose series a fault's ``dependency`` symptoms move, in
    :data:`DEPENDENCY_METRICS` order (the ground truth's footprint beyond the platforms).

    >>> from selfheal_ml.sim.catalogue import CATALOGUE, FaultKind
    >>> dependencies_moved(CATALOGUE[FaultKind.STUCK_CACHE].symptoms)
    ('postgres', 'redis')
    >>> dependencies_moved(CATALOGUE[FaultKind.SERVICE_CRASH].symptoms)
    ()
    """
    metrics = {symptom.metric for symptom in symptoms if symptom.where == "dependency"}
    found = [dependency for name, dependency, _ in DEPENDENCY_METRICS if name in metrics]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class SeriesCatalogue:
    """Names, labels and series keys of every series, in the order :meth:`values` uses."""

    names: tuple[str, ...]
    labels: tuple[dict[str, str], ...]
    keys: tuple[str, ...]
    adapter: TypeAdapter[list[MetricPoint]] = field(
        default_factory=lambda: TypeAdapter(list[MetricPoint]), compare=False, repr=False
    )

    @classmethod
    def of(cls, layout: Layout) -> SeriesCatalogue:
        """Build the catalogue for ``layout``."""
        entries: list[tuple[str, dict[str, str]]] = []
        endpoint_labels = [
            {"platform": spec.name, "endpoint": endpoint.path}
            for spec in layout.platforms
            for endpoint in spec.endpoints
        ]
        for name, extra, _ in ENDPOINT_METRICS:
            entries += [(name, {**labels, **extra}) for labels in endpoint_labels]
        for name, _ in PLATFORM_METRICS:
            entries += [(name, {"platform": spec.name}) for spec in layout.platforms]
        for name, _ in HOST_METRICS:
            entries += [(name, {"platform": s.name, "host": s.host}) for s in layout.platforms]
        entries += [
            ("business_events_per_min", {"platform": spec.name, "event": event.name})
            for spec in layout.platforms
            for event in spec.business_events
        ]
        entries += [(name, {"dependency": dep}) for name, dep, _ in DEPENDENCY_METRICS]
        return cls(
            names=tuple(name for name, _ in entries),
            labels=tuple(labels for _, labels in entries),
            keys=tuple(series_key(name, labels) for name, labels in entries),
        )

    def values(self, frames: Frame) -> FloatArray:
        """A batch of T frames as a (T, series) matrix, columns in catalogue order."""
        parts = [extract(frames) for _, _, extract in ENDPOINT_METRICS]
        parts += [extract(frames) for _, extract in PLATFORM_METRICS]
        parts += [extract(frames) for _, extract in HOST_METRICS]
        parts.append(frames.business_per_min)
        parts.append(np.stack([extract(frames) for _, _, extract in DEPENDENCY_METRICS], axis=1))
        return np.concatenate(parts, axis=1)

    def points(self, frames: Frame, ts: datetime) -> list[MetricPoint]:
        """The last frame of a batch as metric points stamped ``ts`` (validated in one bulk
        pydantic call, which is faster than building them one by one)."""
        values = self.values(frames)[-1].tolist()
        rows = [
            {"series": key, "ts": ts, "value": value, "labels": labels}
            for key, labels, value in zip(self.keys, self.labels, values, strict=True)
        ]
        return self.adapter.validate_python(rows)
