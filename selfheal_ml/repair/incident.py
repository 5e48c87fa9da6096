"""What the system observed about one incident: the input of feature extraction.

An :class:`IncidentRecord` holds only what a monitor can see when the incident opens: the
anomalous series as :class:`Signal` s (metric name, where, and a calibrated z-like score,
signed: positive when the metric went up), the platforms involved, the age of the most recent
configuration change on those platforms, and how many similar incidents happened in the last
seven days. It never holds the ground-truth fault kind: that is what the model must not see.

The *signature* groups incidents that look alike (scope plus the three strongest symptoms); the
playbooks and the recurrence count are keyed by it.

>>> from datetime import UTC, datetime
>>> record = IncidentRecord(
...     opened_at=datetime(2026, 1, 5, 14, tzinfo=UTC),
...     signals=(
...         Signal("http_error_ratio", 25.0, platform="tackle.io", status_class="5xx"),
...         Signal("host_cpu_percent", -8.0, platform="tackle.io"),
...     ),
... )
>>> incident_signature(record)
'platform|cpu_down+errors_5xx_up'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from selfheal_ml.metric_catalogue import HTTP_ERROR_RATIO, METRICS

ANOMALOUS_SCORE = 4.0

# metric name -> symptom family, from the catalogue; http_error_ratio is split by status class
METRIC_FAMILIES: dict[str, str] = {
    spec.name: spec.family for spec in METRICS.values() if spec.family is not None
}
FAMILIES: tuple[str, ...] = (
    "requests",
    "latency",
    "errors_5xx",
    "errors_4xx",
    "auth_attempts",
    "auth_failures",
    "job_queue",
    "job_age",
    "cpu",
    "memory",
    "disk",
    "business_events",
    "db_up",
    "db_query_duration",
    "db_connections",
    "db_slow_queries",
    "cache_hit_ratio",
    "redis_memory",
)


@dataclass(frozen=True)
class Signal:
    """One anomalous series: ``score`` is signed (up > 0), on the calibrated z-like scale."""

    metric: str
    score: float
    platform: str | None = None
    dependency: str | None = None
    status_class: str | None = None


@dataclass(frozen=True)
class IncidentRecord:
    """What was observable when the incident opened (see the module docstring)."""

    opened_at: datetime
    signals: tuple[Signal, ...] = ()
    platforms: tuple[str, ...] = ()
    config_change_age_s: float | None = None
    similar_incidents_7d: int = 0
    details: dict[str, str] = field(default_factory=dict)


def signal_family(signal: Signal) -> str | None:
    """The symptom family of a signal (``None`` for a metric we do not model).

    >>> signal_family(Signal("http_error_ratio", 3.0, status_class="4xx"))
    'errors_4xx'
    >>> signal_family(Signal("made_up_metric", 3.0)) is None
    True
    """
    if signal.metric == HTTP_ERROR_RATIO:
        return "errors_4xx" if signal.status_class == "4xx" else "errors_5xx"
    return METRIC_FAMILIES.get(signal.metric)


def finite_score(score: float, cap: float = 50.0) -> float:
    """The score made finite and capped to ``[-cap, cap]`` (NaN counts as 0).

    >>> finite_score(float("inf")), finite_score(float("nan")), finite_score(-3.5)
    (50.0, 0.0, -3.5)
    """
    if math.isnan(score):
        return 0.0
    return max(-cap, min(cap, score))


def family_strengths(record: IncidentRecord) -> dict[str, float]:
    """The strongest movement per ``<family>_up`` / ``<family>_down`` (magnitudes, >= 0)."""
    strengths: dict[str, float] = {}
    for signal in record.signals:
        family = signal_family(signal)
        score = finite_score(signal.score)
        if family is None or score == 0.0:
            continue
        key = f"{family}_{'up' if score > 0 else 'down'}"
        strengths[key] = max(strengths.get(key, 0.0), abs(score))
    return strengths


def anomalous_platforms(record: IncidentRecord) -> set[str]:
    """Platforms with at least one signal at or above :data:`ANOMALOUS_SCORE`."""
    return {
        signal.platform
        for signal in record.signals
        if signal.platform is not None and abs(finite_score(signal.score)) >= ANOMALOUS_SCORE
    }


def incident_signature(record: IncidentRecord) -> str:
    """Scope (``dependency`` or ``platform``) and the three strongest symptoms, sorted."""
    strengths = family_strengths(record)
    strongest = sorted(strengths, key=lambda key: (-strengths[key], key))[:3]
    dependency_hit = any(
        signal.dependency is not None and abs(finite_score(signal.score)) >= ANOMALOUS_SCORE
        for signal in record.signals
    )
    scope = "dependency" if dependency_hit and len(anomalous_platforms(record)) > 1 else "platform"
    return f"{scope}|{'+'.join(sorted(strongest)) or 'none'}"
