"""Prometheus scrape: read a ``/metrics`` page and turn it into detector-ready series.

The page (text exposition format 0.0.4) is parsed by :func:`parse_exposition` (a strict fast
path for well-formed pages, ``prometheus_client``'s own parser for anything else).
Cumulative series are converted, because detectors and forecasts need "what happened in the
last interval", not "since the process started":

- gauges and untyped samples are kept as they are (same name and labels);
- counters become per-second rates named ``<family>_per_second`` (``http_requests_total`` ->
  ``http_requests_per_second``), using the previous scrape, reset-aware; the first scrape of
  a series yields no rate;
- histograms become ``<family>_p50``, ``<family>_p95``, ``<family>_p99`` (in the histogram's
  own unit), interpolated like PromQL ``histogram_quantile`` over the bucket increase since
  the previous scrape, plus ``<family>_count_per_second``; like a counter, the first scrape
  of a histogram yields nothing (its cumulative buckets are the process's whole history, not
  the last interval), and an interval with no observation yields no quantile;
- summaries keep their ``quantile`` samples as gauges and turn ``_count`` into a rate;
- ``<family>_created`` creation timestamps and non-finite values (``NaN``, ``+Inf``) are
  dropped, so every point a detector sees is a finite number.

Conventional families (``http_requests_total`` with a status label, the
``http_request_duration_seconds`` histogram, auth and business-event counters) are then turned
into the canonical series of :mod:`selfheal_ml.metric_catalogue` that the rules and the
diagnosis read (:mod:`selfheal_ml.collectors.canonical`); the raw points they came from are
dropped unless ``keep_raw``.

Exposed labels win over the target's own labels (``honor_labels``), which are added only
where the page did not set them. Each scrape also emits ``scrape_up``, ``scrape_duration_ms``
and ``scrape_samples`` for the target. Under virtual time, a transport standing in for the
network reports how long the fetch took (:data:`selfheal_ml.clock.SIMULATED_ELAPSED_S`) and
that is the duration reported: the wall time of this process is not the target's.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.collectors.base import (
    cached_series_key,
    describe_failure,
    metric_point,
    target_labels,
)
from selfheal_ml.collectors.canonical import derive_canonical
from selfheal_ml.collectors.counters import CounterTracker, HistogramTracker
from selfheal_ml.collectors.exposition_parser import parse_exposition
from selfheal_ml.collectors.http_client import PooledClient
from selfheal_ml.collectors.http_probe import (
    UNREACHABLE_ERRORS,
    USER_AGENT,
    simulated_elapsed_s,
)
from selfheal_ml.collectors.prometheus_math import Bucket, histogram_quantiles, parse_bucket_bound
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint

__all__ = ["ExpositionConverter", "PrometheusScrape", "parse_exposition", "parse_page"]

#: Quantiles extracted from every histogram, with their series-name suffix.
HISTOGRAM_QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
QUANTILES = tuple(quantile for _, quantile in HISTOGRAM_QUANTILES)

#: Unreachable target, HTTP error status, or a page the parser rejects: ``scrape_up 0``.
SCRAPE_ERRORS: tuple[type[Exception], ...] = (*UNREACHABLE_ERRORS, ValueError, ValidationError)

ACCEPT_HEADER = "text/plain;version=0.0.4;q=1.0, */*;q=0.1"

#: Pages up to this size are parsed on the event loop (well under a millisecond on the fast
#: path, less than a hop to a worker thread costs); larger ones in a worker thread, so the
#: API stays responsive while a big exporter's page is read.
INLINE_PARSE_MAX_BYTES = 64 * 1024

#: A page fetched over the network and larger than this is parsed and converted in the page
#: worker thread (:func:`page_worker`), not on the event loop. 250 targets of 80 gauges are
#: 0.6-0.9 CPU s of parsing and converting a round; on the loop, 64 scrapes at once made each
#: turn of the loop that long, and a ``/health`` request needs several turns (seconds on a
#: loaded machine). An injected transport (the simulator's, a test's) answers in process:
#: its pages stay on the loop, where a demo's thousands of rounds pay no thread hops.
OFF_LOOP_MIN_BYTES = 2 * 1024


@functools.lru_cache(maxsize=256)
def text_encoding(content_type: str | None) -> str:
    """The encoding httpx decodes a body of ``content_type`` with (its ``charset``, else
    UTF-8). A target sends the same header every scrape, so the answer is memoised: httpx
    parses the header through ``email.message`` for every response, a twentieth of a scrape.

    >>> text_encoding("text/plain; version=0.0.4; charset=utf-8"), text_encoding(None)
    ('utf-8', 'utf-8')
    >>> text_encoding("text/plain; charset=latin-1")
    'latin-1'
    """
    headers = {} if content_type is None else {"content-type": content_type}
    return httpx.Response(200, headers=headers).encoding or "utf-8"


async def parse_page(text: str) -> list[Metric]:
    """:func:`parse_exposition`, inline for a small page, in a worker thread for a large one."""
    if len(text) <= INLINE_PARSE_MAX_BYTES:
        return parse_exposition(text)
    return await asyncio.to_thread(parse_exposition, text)


@functools.lru_cache(maxsize=65536)
def _split_bound(items: tuple[tuple[str, str], ...]) -> tuple[tuple[tuple[str, str], ...], float]:
    """A bucket's labels without ``le``, and its bound. Memoised (bounded): a histogram
    repeats the same dozen bucket label sets every scrape.

    >>> _split_bound((("endpoint", "/a"), ("le", "0.5")))
    ((('endpoint', '/a'),), 0.5)
    """
    others = dict(items)
    bound = parse_bucket_bound(others.pop("le"))
    return tuple(others.items()), bound


@functools.cache
def page_worker() -> ThreadPoolExecutor:
    """The one thread that converts the process's scraped pages (built on first use).

    One thread, not the default pool: the conversions are pure Python and hold the GIL, so
    more threads would only make the event loop wait longer for it.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrape-pages")


class ExpositionConverter:
    """Turns parsed metric families into points, remembering counters between scrapes.

    >>> from datetime import datetime, timedelta, UTC
    >>> converter = ExpositionConverter({"target": "shop"})
    >>> page = "# TYPE jobs_total counter\\njobs_total 10\\n# TYPE queue gauge\\nqueue 3\\n"
    >>> start = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [point.series for point in converter.convert(parse_exposition(page), start)]
    ['queue{target="shop"}']
    >>> page = page.replace("jobs_total 10", "jobs_total 40")
    >>> later = start + timedelta(seconds=15)
    >>> points = converter.convert(parse_exposition(page), later)
    >>> [(point.series, point.value) for point in points]
    [('jobs_per_second{target="shop"}', 2.0), ('queue{target="shop"}', 3.0)]
    """

    def __init__(self, base_labels: dict[str, str]) -> None:
        self.base_labels = dict(base_labels)
        self._counters = CounterTracker()
        self._histograms = HistogramTracker()
        self._seen_counters: set[str] = set()
        self._seen_histograms: set[str] = set()

    def convert(self, families: Iterable[Metric], now: datetime) -> list[MetricPoint]:
        """Points at ``now`` for every family of one scrape.

        Series absent from this scrape are forgotten, so label churn cannot grow the state
        without bound; a series that comes back starts afresh (no rate on its first return).
        """
        families = list(families)
        self._seen_counters = set()
        self._seen_histograms = set()
        creation_times = {
            f"{family.name}_created"
            for family in families
            if family.type in ("counter", "histogram", "summary")
        }
        points: list[MetricPoint] = []
        for family in families:
            if family.name in creation_times:
                continue  # "<counter>_created" timestamps, exposed as separate gauges
            if family.type in ("gauge", "unknown", "untyped"):
                points.extend(self._gauges(family.samples, now))
            elif family.type == "counter":
                points.extend(self._counter_rates(family, now))
            elif family.type == "histogram":
                points.extend(self._histogram(family, now))
            elif family.type == "summary":
                points.extend(self._summary(family, now))
        self._counters.keep_only(self._seen_counters)
        self._histograms.keep_only(self._seen_histograms)
        return points

    def _labels(self, sample_labels: dict[str, str]) -> dict[str, str]:
        merged = dict(self.base_labels)
        merged.update(sample_labels)
        return merged

    def _gauges(self, samples: Iterable[Sample], now: datetime) -> list[MetricPoint]:
        return [
            metric_point(sample.name, self._labels(sample.labels), float(sample.value), now)
            for sample in samples
            if math.isfinite(sample.value)
        ]

    def _rate(self, name: str, sample: Sample, now: datetime) -> list[MetricPoint]:
        if not math.isfinite(sample.value):
            return []
        labels = self._labels(sample.labels)
        key = cached_series_key(sample.name, labels)
        self._seen_counters.add(key)
        delta = self._counters.observe(key, float(sample.value), now)
        if delta is None:
            return []
        return [metric_point(name, labels, delta.rate_per_s, now)]

    def _counter_rates(self, family: Metric, now: datetime) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            points.extend(self._rate(f"{family.name}_per_second", sample, now))
        return points

    def _summary(self, family: Metric, now: datetime) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for sample in family.samples:
            if sample.name == family.name:
                points.extend(self._gauges([sample], now))
            elif sample.name == f"{family.name}_count":
                points.extend(self._rate(f"{family.name}_count_per_second", sample, now))
        return points

    def _histogram(self, family: Metric, now: datetime) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        groups: dict[str, tuple[dict[str, str], list[Bucket]]] = {}
        # a histogram has a dozen buckets per label set: key each set once, not per bucket
        keys: dict[tuple[tuple[str, str], ...], str] = {}
        count_name, bucket_name = f"{family.name}_count", f"{family.name}_bucket"
        for sample in family.samples:
            if sample.name == count_name:
                points.extend(self._rate(f"{family.name}_count_per_second", sample, now))
            elif (
                sample.name == bucket_name and "le" in sample.labels and math.isfinite(sample.value)
            ):
                items, bound = _split_bound(tuple(sample.labels.items()))
                key = keys.get(items)
                if key is None:
                    labels = self._labels(dict(items))
                    key = keys[items] = cached_series_key(family.name, labels)
                    groups.setdefault(key, (labels, []))
                groups[key][1].append(Bucket(bound, float(sample.value)))
        for key, (labels, buckets) in groups.items():
            points.extend(self._quantiles(family.name, key, labels, buckets, now))
        return points

    def _quantiles(
        self,
        family_name: str,
        key: str,
        labels: dict[str, str],
        buckets: Sequence[Bucket],
        now: datetime,
    ) -> list[MetricPoint]:
        self._seen_histograms.add(key)
        window = self._histograms.observe(key, buckets, now)
        if not window or not math.isinf(window[-1].upper_bound):
            return []
        values = histogram_quantiles(QUANTILES, window)
        return [
            metric_point(f"{family_name}_{suffix}", labels, value, now)
            for (suffix, _), value in zip(HISTOGRAM_QUANTILES, values, strict=True)
            if value is not None
        ]


class PrometheusScrape:
    """Scrapes one ``/metrics`` URL within ``timeout_s`` and converts it (see module doc).

    Keeps the previous scrape's counters, so one instance must be reused across rounds.
    ``metric_prefixes`` (if given) keeps only families whose name starts with one of them;
    ``keep_raw`` keeps the raw points the canonical series were derived from.
    """

    def __init__(
        self,
        target: str,
        url: str,
        timeout_s: float = 5.0,
        platform: str | None = None,
        metric_prefixes: Sequence[str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        keep_raw: bool = False,
    ) -> None:
        self.target = target
        self.url = url
        self.timeout_s = timeout_s
        self.platform = platform
        self.metric_prefixes = tuple(metric_prefixes) if metric_prefixes is not None else None
        self.transport = transport
        self.keep_raw = keep_raw
        self.name = f"prometheus:{target}"
        self.last_error: str | None = None
        self._converter = ExpositionConverter(target_labels(target, platform))
        self._http = PooledClient(transport)  # one pooled client for the scrape's whole life

    async def aclose(self) -> None:
        """Close the kept-alive connection (at shutdown)."""
        await self._http.aclose()

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """Scrape once; an unreachable target or unparsable page yields ``scrape_up 0``."""
        labels = target_labels(self.target, self.platform)
        started = time.perf_counter()
        try:
            text, simulated_s = await self._fetch()
            if self.transport is None and len(text) > OFF_LOOP_MIN_BYTES:
                loop = asyncio.get_running_loop()
                work = functools.partial(self._convert_page, text, now)
                families, converted = await loop.run_in_executor(page_worker(), work)
            else:
                families = await parse_page(text)
                converted = self._convert(families, now)
        except SCRAPE_ERRORS as error:
            self.last_error = describe_failure(error, self.timeout_s)
            return [metric_point(mc.SCRAPE_UP, labels, 0.0, now)]
        self.last_error = None
        elapsed_s = time.perf_counter() - started if simulated_s is None else simulated_s
        duration_ms = elapsed_s * 1000.0
        sample_count = sum(len(family.samples) for family in families)
        return [
            *converted,
            metric_point(mc.SCRAPE_UP, labels, 1.0, now),
            metric_point(mc.SCRAPE_DURATION_MS, labels, duration_ms, now),
            metric_point("scrape_samples", labels, float(sample_count), now),
        ]

    def _convert_page(self, text: str, now: datetime) -> tuple[list[Metric], list[MetricPoint]]:
        """Parse and convert a page (in the page worker): its families and its points."""
        families = parse_exposition(text)
        return families, self._convert(families, now)

    def _convert(self, families: list[Metric], now: datetime) -> list[MetricPoint]:
        raw = self._converter.convert(self._selected(families), now)
        return derive_canonical(raw, keep_raw=self.keep_raw)

    async def _fetch(self) -> tuple[str, float | None]:
        """The page, and the fetch time a simulated transport reported (else ``None``)."""
        async with asyncio.timeout(self.timeout_s):
            response = await self._http.get(
                self.url, {"Accept": ACCEPT_HEADER, "User-Agent": USER_AGENT}, self.timeout_s
            )
            response.raise_for_status()
            response.encoding = text_encoding(response.headers.get("content-type"))
            return response.text, simulated_elapsed_s(response)

    def _selected(self, families: Iterable[Metric]) -> list[Metric]:
        if self.metric_prefixes is None:
            return list(families)
        return [
            family
            for family in families
            if any(family.name.startswith(prefix) for prefix in self.metric_prefixes)
        ]
