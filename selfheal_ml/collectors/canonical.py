"""Canonical series from a Prometheus scrape: the catalogue's names from conventional families.

A scrape converts what a service exposes into rates and quantiles under the exposed names
(``http_requests_per_second{status_class="5xx"}``, ``http_request_duration_seconds_p95``).
The rules, the diagnosis and the detectors read the canonical names of
:mod:`selfheal_ml.metric_catalogue` instead, the ones the in-process simulator observation
produces. :func:`derive_canonical` bridges the two, for the simulator's ``/metrics`` page and
for any service that follows the usual Prometheus conventions:

- a request counter (``http_requests_total``, seen as ``http_requests_per_second``) with a
  status label (``status_class`` = ``5xx``, or a code: ``code``, ``status``, ``status_code``,
  ``http_response_status_code``) becomes, per label set without the status label,
  ``http_requests_per_s`` (all statuses), ``http_5xx_per_s``, and ``http_error_ratio`` with
  ``status_class`` ``4xx`` and ``5xx`` (that class's rate over the total; no ratio when no
  request arrived). Without a request counter, a latency histogram's count rate serves as
  ``http_requests_per_s``;
- a latency histogram in seconds (``http_request_duration_seconds``, or OpenTelemetry's
  ``http_server_request_duration_seconds``) becomes ``http_latency_p50_ms``, ``_p95_ms`` and
  ``_p99_ms``;
- ``auth_attempts_total`` / ``auth_failures_total`` become ``auth_attempts_per_s`` /
  ``auth_failures_per_s``, ``business_events_total`` becomes ``business_events_per_min``.

Labels are kept (the scrape's ``target`` included), minus the status label. The raw points the
canonical ones were derived from are dropped unless ``keep_raw``: they say the same thing,
and every series costs a detector, forecasts and storage. Everything else passes unchanged.
No I/O: this is arithmetic over one scrape's points.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.collectors.base import metric_point
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> raw = [metric_point("http_requests_per_second", {"platform": "a", "code": code}, rate, now)
...        for code, rate in (("200", 9.0), ("503", 1.0))]
>>> {p.series: p.value for p in derive_canonical(raw)}  # doctest: +NORMALIZE_WHITESPACE
{'http_requests_per_s{platform="a"}': 10.0, 'http_5xx_per_s{platform="a"}': 1.0,
 'http_error_ratio{platform="a",status_class="4xx"}': 0.0,
 'http_error_ratio{platform="a",status_class="5xx"}': 0.1}
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.collectors.base import metric_point
from selfheal_ml.events import MetricPoint

#: Request counters, as the scrape names their rates.
REQUEST_RATES: tuple[str, ...] = ("http_requests_per_second",)
#: Latency histograms in seconds, as the scrape names them (quantiles are ``<name>_p95``).
LATENCY_HISTOGRAMS: tuple[str, ...] = (
    "http_request_duration_seconds",
    "http_server_request_duration_seconds",
)
#: Labels that carry the HTTP status (class or code), first match wins.
STATUS_LABELS: tuple[str, ...] = (
    "status_class",
    "code",
    "status",
    "status_code",
    "http_response_status_code",
)
#: Plain renames: scraped rate name -> (canonical name, factor).
RENAMED_RATES: dict[str, tuple[str, float]] = {
    "auth_attempts_per_second": (mc.AUTH_ATTEMPTS_PER_S, 1.0),
    "auth_failures_per_second": (mc.AUTH_FAILURES_PER_S, 1.0),
    "business_events_per_second": (mc.BUSINESS_EVENTS_PER_MIN, 60.0),
}
_QUANTILES: tuple[tuple[str, str], ...] = (
    ("p50", mc.HTTP_LATENCY_P50_MS),
    ("p95", mc.HTTP_LATENCY_P95_MS),
    ("p99", mc.HTTP_LATENCY_P99_MS),
)
_ERROR_CLASSES: tuple[str, ...] = ("4xx", "5xx")
#: Every scraped name a canonical series is derived from: a scrape with none of them (most
#: exporters' pages) passes unchanged without the three passes below.
SOURCE_NAMES: frozenset[str] = frozenset(
    {
        *REQUEST_RATES,
        *RENAMED_RATES,
        *(f"{family}_{suffix}" for family in LATENCY_HISTOGRAMS for suffix, _ in _QUANTILES),
        *(f"{family}_count_per_second" for family in LATENCY_HISTOGRAMS),
    }
)

LabelKey = tuple[tuple[str, str], ...]


def status_class(value: str) -> str | None:
    """The class (``2xx`` ... ``5xx``) of a status code or class label value.

    >>> status_class("503"), status_class("5xx"), status_class("4XX"), status_class("ok")
    ('5xx', '5xx', '4xx', None)
    """
    text = value.strip().lower()
    if len(text) == 3 and text[0] in "12345" and (text[1:] == "xx" or text[1:].isdigit()):
        return f"{text[0]}xx"
    return None


#: :func:`status_class`, memoised: a scrape repeats the same few status labels.
_cached_status_class = functools.lru_cache(maxsize=1024)(status_class)


def _name(point: MetricPoint) -> str:
    return point.series.split("{", 1)[0]


@dataclass
class _RequestGroup:
    """Request rates of one label set (status label removed), summed by status class."""

    labels: dict[str, str]
    total: float = 0.0
    by_class: dict[str, float] = field(default_factory=dict)

    def add(self, point: MetricPoint) -> None:
        self.total += point.value
        labels = point.labels
        for key in STATUS_LABELS:  # the first status label present
            if key in labels:
                klass = _cached_status_class(labels[key])
                if klass is not None:
                    self.by_class[klass] = self.by_class.get(klass, 0.0) + point.value
                return

    def points(self, point: MetricPoint) -> list[MetricPoint]:
        """The canonical request series of this group, stamped like ``point``."""
        derived = [metric_point(mc.HTTP_REQUESTS_PER_S, self.labels, self.total, point.ts)]
        if not self.by_class:
            return derived  # no status label: nothing to say about errors
        derived.append(
            metric_point(mc.HTTP_5XX_PER_S, self.labels, self.by_class.get("5xx", 0.0), point.ts)
        )
        if self.total > 0:
            for klass in _ERROR_CLASSES:
                ratio = self.by_class.get(klass, 0.0) / self.total
                labels = {**self.labels, "status_class": klass}
                derived.append(metric_point(mc.HTTP_ERROR_RATIO, labels, ratio, point.ts))
        return derived


def _without_status(labels: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in labels.items() if key not in STATUS_LABELS}


def _requests(points: Sequence[MetricPoint]) -> tuple[list[MetricPoint], set[int]]:
    """Canonical request series from request-counter rates; ids of the points consumed."""
    groups: dict[LabelKey, _RequestGroup] = {}
    first: dict[LabelKey, MetricPoint] = {}
    consumed: set[int] = set()
    for point in points:
        if _name(point) in REQUEST_RATES:
            labels = _without_status(point.labels)
            key = tuple(sorted(labels.items()))
            groups.setdefault(key, _RequestGroup(labels)).add(point)
            first.setdefault(key, point)
            consumed.add(id(point))
    derived = [p for key, group in groups.items() for p in group.points(first[key])]
    return derived, consumed


def _latency(
    points: Sequence[MetricPoint], counted: set[LabelKey]
) -> tuple[list[MetricPoint], set[int]]:
    """Millisecond quantiles from latency histograms, and their count rate as the request
    rate where no request counter gave one (label sets in ``counted``)."""
    quantiles = {
        f"{family}_{suffix}": name for family in LATENCY_HISTOGRAMS for suffix, name in _QUANTILES
    }
    counts = {f"{family}_count_per_second" for family in LATENCY_HISTOGRAMS}
    derived: list[MetricPoint] = []
    consumed: set[int] = set()
    for point in points:
        name = _name(point)
        if name in quantiles:
            derived.append(
                metric_point(quantiles[name], point.labels, point.value * 1000.0, point.ts)
            )
        elif name in counts:
            if tuple(sorted(point.labels.items())) not in counted:
                derived.append(
                    metric_point(mc.HTTP_REQUESTS_PER_S, point.labels, point.value, point.ts)
                )
        else:
            continue
        consumed.add(id(point))
    return derived, consumed


def _renamed(points: Iterable[MetricPoint]) -> tuple[list[MetricPoint], set[int]]:
    derived: list[MetricPoint] = []
    consumed: set[int] = set()
    for point in points:
        rename = RENAMED_RATES.get(_name(point))
        if rename is not None:
            name, factor = rename
            derived.append(metric_point(name, point.labels, point.value * factor, point.ts))
            consumed.add(id(point))
    return derived, consumed


def derive_canonical(points: Sequence[MetricPoint], keep_raw: bool = False) -> list[MetricPoint]:
    """The canonical series derivable from one scrape's points, then the points not used for
    them (all points if ``keep_raw``); see the module docstring for what is recognised."""
    sources = SOURCE_NAMES
    if not any(point.series.split("{", 1)[0] in sources for point in points):
        return list(points)
    requests, used_requests = _requests(points)
    counted = {
        tuple(sorted(p.labels.items())) for p in requests if _name(p) == mc.HTTP_REQUESTS_PER_S
    }
    latency, used_latency = _latency(points, counted)
    renamed, used_renamed = _renamed(points)
    consumed = set() if keep_raw else used_requests | used_latency | used_renamed
    rest = [point for point in points if id(point) not in consumed]
    derived = requests + latency + renamed
    keys = {point.series for point in derived}
    return derived + [point for point in rest if point.series not in keys]


__all__ = ["derive_canonical", "status_class"]
