"""Observations: alerts, anomalies and breach predictions in one shape the diagnosis can reason on.

Each event that says "something looks wrong" becomes an :class:`Observation`: which metric
(the series name without labels), on which *component* (a platform, or a shared dependency such
as the database or the cache), when, and a signed strength on the calibrated z-like scale
(positive when the metric went up). Threshold alerts carry no score, so they get a fixed
strength by severity (:data:`ALERT_STRENGTH`), signed by the direction their rule watches.

The component of a series is its ``dependency`` label; else, for database and cache metrics,
its ``target`` label (a configured PostgreSQL or Redis target); else its ``platform``; else its
``target``.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.events import AlertRaised
>>> alert = AlertRaised(ts=datetime(2026, 1, 5, tzinfo=UTC), source="Monitor",
...                     alertname="DatabaseConnectionFailure", severity="critical",
...                     labels={"dependency": "postgres"})
>>> observation = from_alert(alert)
>>> observation.metric, observation.component, observation.score
('db_up', 'postgres', -20.0)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from selfheal_ml.events import AlertRaised, AnomalyDetected, BreachPredicted

Source = Literal["anomaly", "alert", "forecast"]
Kind = Literal["platform", "database", "cache"]

#: Strength given to a threshold alert (it has no calibrated score of its own).
ALERT_STRENGTH: dict[str, float] = {"critical": 20.0, "warning": 10.0, "info": 4.0}
#: Strength given to a credible capacity-breach prediction.
BREACH_STRENGTH = 8.0
#: Strength of a value far outside its expected band, read at diagnosis time.
BAND_BREACH_STRENGTH = 8.0
SCORE_CAP = 50.0
#: The Monitor's threshold alerts: which metric each one watches and which way is bad.
ALERT_METRICS: dict[str, tuple[str, int]] = {
    "HighResponseTime": ("http_latency_p95_ms", 1),
    "HighErrorRate": ("http_error_ratio", 1),
    "ServerErrors": ("http_5xx_per_s", 1),
    "DatabaseConnectionFailure": ("db_up", -1),
    "CacheUnreachable": ("cache_hit_ratio", -1),
    "TargetDown": ("probe_up", -1),
    "HighCpu": ("host_cpu_percent", 1),
    "HighMemory": ("host_memory_percent", 1),
    "HighDisk": ("host_disk_percent", 1),
    "AuthFailureSpike": ("auth_failures_per_s", 1),
    "SlowQueries": ("db_slow_queries", 1),
    "DatabaseConnectionsExhausted": ("db_connections_exhausted", 1),
    "DatabaseConnectionsHigh": ("db_connections_in_use", 1),
}
_DEPENDENCY_PREFIXES: tuple[tuple[str, Kind], ...] = (
    ("db_", "database"),
    ("pg_", "database"),
    ("redis_", "cache"),
    ("cache_", "cache"),
)


def metric_name(series: str) -> str:
    """The metric of a series key.

    >>> metric_name('db_up{dependency="postgres"}')
    'db_up'
    """
    return series.split("{", 1)[0]


def dependency_kind(metric: str) -> Kind | None:
    """``database`` or ``cache`` for a dependency's metric, ``None`` for a platform's.

    >>> dependency_kind("db_query_duration_ms"), dependency_kind("host_cpu_percent")
    ('database', None)
    """
    for prefix, kind in _DEPENDENCY_PREFIXES:
        if metric.startswith(prefix):
            return kind
    return None


def component_of(metric: str, labels: dict[str, str]) -> str:
    """The component a series belongs to (see the module docstring).

    >>> component_of("db_up", {"target": "shop-db"}), component_of("x", {"platform": "a"})
    ('shop-db', 'a')
    """
    if labels.get("dependency"):
        return labels["dependency"]
    if dependency_kind(metric) is not None and labels.get("target"):
        return labels["target"]
    return labels.get("platform") or labels.get("target") or "unknown"


@dataclass(frozen=True)
class Observation:
    """One sign of trouble: ``score`` is signed (up > 0) on the calibrated z-like scale."""

    ts: datetime
    metric: str
    series: str
    component: str
    score: float
    source: Source
    labels: tuple[tuple[str, str], ...] = ()
    value: float | None = None
    expected_low: float | None = None
    expected_high: float | None = None
    detail: str = ""

    @property
    def label_map(self) -> dict[str, str]:
        """The labels as a dict (a fresh one: callers may change it)."""
        return dict(self.labels)

    # The derived properties below are computed once per observation (cached_property on a
    # frozen dataclass stores them in the instance dict): grouping and diagnosis read them for
    # every pair and every round, and rebuilding the label dict each time was most of a storm.

    @functools.cached_property
    def platform(self) -> str | None:
        """The platform label, if any."""
        return next((value for key, value in self.labels if key == "platform"), None)

    @functools.cached_property
    def dependency(self) -> str | None:
        """The dependency this series belongs to, if it is a dependency's series."""
        if dependency_kind(self.metric) is None and all(
            key != "dependency" for key, _ in self.labels
        ):
            return None
        return self.component

    @functools.cached_property
    def kind(self) -> Kind:
        """What sort of component this is: ``platform``, ``database`` or ``cache``."""
        return dependency_kind(self.metric) or "platform"

    @property
    def strength(self) -> float:
        """``|score|``, capped."""
        return abs(self.score)

    @property
    def ratio(self) -> float:
        """How far past its expected range the value went, as a multiple of the range's edge
        (``value / high`` going up, ``low / value`` going down); infinite when unknown (a
        threshold alert) or when the edge is zero.

        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 1, 5, tzinfo=UTC)
        >>> Observation(t, "m", "m", "a", 9.0, "anomaly", value=300.0, expected_low=10.0,
        ...             expected_high=60.0).ratio
        5.0
        """
        value, low, high = self.value, self.expected_low, self.expected_high
        if value is None or low is None or high is None or self.score == 0.0:
            return math.inf
        if self.score > 0:
            return value / high if high > 0 else math.inf
        return low / value if value > 0 and low > 0 else math.inf


def _capped(score: float) -> float:
    if math.isnan(score):
        return 0.0
    return max(-SCORE_CAP, min(SCORE_CAP, score))


def _sorted_labels(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def from_anomaly(event: AnomalyDetected) -> Observation:
    """An anomaly, signed by the side of the expected range the value fell on.

    A value inside its own expected range (a detector flagged the point for another reason,
    e.g. a seasonal profile that remembers yesterday's incident) says nothing about which way
    the metric moved: it becomes an observation of strength 0, kept for grouping but no
    symptom.
    """
    metric = metric_name(event.series)
    magnitude = max(abs(event.score), 1.0)
    if event.value > event.expected_high:
        score = magnitude
    elif event.value < event.expected_low:
        score = -magnitude
    else:
        score = 0.0
    return Observation(
        ts=event.ts,
        metric=metric,
        series=event.series,
        component=component_of(metric, event.labels),
        score=_capped(score),
        source="anomaly",
        labels=_sorted_labels(event.labels),
        value=event.value,
        expected_low=event.expected_low,
        expected_high=event.expected_high,
        detail=event.explanation,
    )


def from_band_breach(
    series: str,
    ts: datetime,
    value: float,
    expected_low: float | None,
    expected_high: float | None,
    labels: dict[str, str],
    min_ratio: float,
) -> Observation | None:
    """A value at least ``min_ratio`` times its expected range's upper edge, read at diagnosis
    time, as a full-strength rise (``None`` below that).

    The detectors' calibrated scores climb over a few points after a level shift, so a
    doubled request rate can stay below the alerting threshold for minutes while the errors it
    causes alert at once; a diagnosis that asks "is the traffic far above its expected band
    right now?" does not have to guess a crash from the errors alone.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> seen = from_band_breach('r{platform="a"}', t, 53.0, 7.0, 12.0, {"platform": "a"}, 2.0)
    >>> seen.score, round(seen.ratio, 2), seen.source
    (8.0, 4.42, 'anomaly')
    >>> from_band_breach('r{platform="a"}', t, 20.0, 7.0, 12.0, {"platform": "a"}, 2.0) is None
    True
    """
    if expected_high is None or expected_high <= 0 or value < min_ratio * expected_high:
        return None
    detail = (
        f"{series} at {value:.4g}, {value / expected_high:.1f}x its expected upper edge"
        f" {expected_high:.4g} (read at diagnosis)"
    )
    return rise_read_at_diagnosis(series, ts, value, expected_low, expected_high, labels, detail)


def rise_read_at_diagnosis(
    series: str,
    ts: datetime,
    value: float,
    expected_low: float | None,
    expected_high: float,
    labels: dict[str, str],
    detail: str,
) -> Observation:
    """A full-strength rise of ``series`` that the diagnosis read from the store itself (the
    shape of :func:`from_band_breach` and of a young series' change of level)."""
    metric = metric_name(series)
    return Observation(
        ts=ts,
        metric=metric,
        series=series,
        component=component_of(metric, labels),
        score=BAND_BREACH_STRENGTH,
        source="anomaly",
        labels=_sorted_labels(labels),
        value=value,
        expected_low=expected_low,
        expected_high=expected_high,
        detail=detail,
    )


def alert_key(alertname: str, labels: dict[str, str]) -> str:
    """The identity of a threshold alert: its name and labels (what its resolution repeats).

    >>> alert_key("HighCpu", {"platform": "a", "host": "h"})
    'HighCpu{host=h,platform=a}'
    """
    return f"{alertname}{{{','.join(f'{k}={v}' for k, v in sorted(labels.items()))}}}"


def from_alert(event: AlertRaised) -> Observation | None:
    """A firing threshold alert the diagnosis knows (``None`` for others and resolutions)."""
    known = ALERT_METRICS.get(event.alertname)
    if known is None or not event.firing:
        return None
    metric, direction = known
    labels = dict(event.labels)
    if event.alertname == "HighErrorRate":
        labels["status_class"] = "5xx"
    value = _float_or_none(event.annotations.get("value"))
    return Observation(
        ts=event.ts,
        metric=metric,
        series=alert_key(event.alertname, event.labels),
        component=component_of(metric, labels),
        score=direction * ALERT_STRENGTH.get(event.severity, 4.0),
        source="alert",
        labels=_sorted_labels(labels),
        value=value,
        detail=event.annotations.get("summary", event.alertname),
    )


def from_breach(event: BreachPredicted) -> Observation:
    """A credible capacity breach: the metric is heading up through its limit."""
    metric = metric_name(event.series)
    return Observation(
        ts=event.ts,
        metric=metric,
        series=event.series,
        component=component_of(metric, event.labels),
        score=BREACH_STRENGTH,
        source="forecast",
        labels=_sorted_labels(event.labels),
        value=event.value,
        expected_high=event.recovered_below,
        detail=f"{event.series} predicted to reach {event.limit:g} by {event.eta:%Y-%m-%d %H:%M}"
        f" (probability {event.probability:.2f})",
    )


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
