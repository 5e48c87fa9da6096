"""From target descriptions to collectors: the one place that maps a kind to a class.

The config layer turns the TOML ``[[targets]]`` tables into :class:`TargetSpec` values; this
module turns those into collector instances through an explicit, typed table (no string
imports). Specs validate themselves on construction, naming the offending field.

>>> collectors = build_collectors([
...     TargetSpec(kind="http", name="leadsite.ai", url="http://127.0.0.1:8001/health",
...                platform="leadsite.ai"),
...     TargetSpec(kind="redis", name="cache", url="redis://127.0.0.1:6379/0"),
... ])
>>> [collector.name for collector in collectors]
['http:leadsite.ai', 'redis:cache']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import httpx

from selfheal_ml.collectors.base import DEFAULT_COLLECTION_CONCURRENCY, Collector
from selfheal_ml.collectors.host import HostCollector
from selfheal_ml.collectors.http_probe import HttpProbe
from selfheal_ml.collectors.prometheus_query import PrometheusQuery
from selfheal_ml.collectors.prometheus_scrape import PrometheusScrape
from selfheal_ml.errors import ValidationError

TargetKind = Literal["http", "prometheus", "prometheus_query", "postgres", "redis", "host"]

#: URL schemes each kind accepts (``host`` takes no URL).
URL_SCHEMES: dict[TargetKind, tuple[str, ...]] = {
    "http": ("http://", "https://"),
    "prometheus": ("http://", "https://"),
    "prometheus_query": ("http://", "https://"),
    "postgres": ("postgresql://", "postgres://"),
    "redis": ("redis://", "rediss://", "unix://"),
    "host": (),
}


@dataclass(frozen=True)
class TargetSpec:
    """One thing to watch.

    ``url`` is the probe or ``/metrics`` URL, the PostgreSQL DSN or the Redis URL; for
    ``host`` it is unused and ``disk_path`` names the filesystem whose usage is reported.
    ``platform`` ties the target to a platform (it becomes a label). ``slow_query_ms``
    (``postgres`` only) is how long an active query may run before it counts as slow.
    ``queries`` (``prometheus_query`` only, required there) are the PromQL expressions
    evaluated against the Prometheus-compatible base URL ``url`` each round.

    For ``host`` targets, ``name`` is the value of the ``host`` label.

    >>> TargetSpec(kind="redis", name="cache", url="mysql://x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    selfheal_ml.errors.ValidationError: url: expected a URL starting with redis://...
    """

    kind: TargetKind
    name: str
    url: str = ""
    platform: str | None = None
    timeout_s: float = 5.0
    disk_path: str = "/"
    slow_query_ms: float = 1000.0
    queries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in get_args(TargetKind):
            expected = ", ".join(get_args(TargetKind))
            raise ValidationError("kind", f"expected one of {expected}, got {self.kind!r}")
        if not self.name.strip():
            raise ValidationError("name", "expected a non-empty target name, got ''")
        if not self.timeout_s > 0:
            raise ValidationError(
                "timeout_s", f"expected a positive duration, got {self.timeout_s!r}"
            )
        if not 0 < self.slow_query_ms < math.inf:
            raise ValidationError(
                "slow_query_ms", f"expected a positive duration, got {self.slow_query_ms!r}"
            )
        if self.kind == "prometheus_query" and not all(q.strip() for q in self.queries or ("",)):
            raise ValidationError(
                "queries",
                f"expected one or more non-empty PromQL expressions, got {list(self.queries)!r}",
            )
        schemes = URL_SCHEMES[self.kind]
        if schemes and not self.url.startswith(schemes):
            raise ValidationError(
                "url",
                f"expected a URL starting with {' or '.join(schemes)} for a {self.kind} "
                f"target, got {self.url!r}",
            )


Transport = httpx.AsyncBaseTransport | None


def _http(spec: TargetSpec, transport: Transport) -> Collector:
    return HttpProbe(spec.name, spec.url, spec.timeout_s, spec.platform, transport)


def _prometheus(spec: TargetSpec, transport: Transport) -> Collector:
    return PrometheusScrape(spec.name, spec.url, spec.timeout_s, spec.platform, transport=transport)


def _prometheus_query(spec: TargetSpec, transport: Transport) -> Collector:
    return PrometheusQuery(
        spec.name, spec.url, spec.queries, spec.timeout_s, spec.platform, transport=transport
    )


def _postgres(spec: TargetSpec, transport: Transport) -> Collector:
    from selfheal_ml.collectors.postgres import PostgresCollector  # psycopg: only when needed

    return PostgresCollector(
        spec.name, spec.url, spec.timeout_s, spec.platform, slow_query_ms=spec.slow_query_ms
    )


def _redis(spec: TargetSpec, transport: Transport) -> Collector:
    from selfheal_ml.collectors.redis_cache import RedisCollector  # the redis client: ditto

    return RedisCollector(spec.name, spec.url, spec.timeout_s, spec.platform)


def _host(spec: TargetSpec, transport: Transport) -> Collector:
    return HostCollector(spec.disk_path, hostname=spec.name, platform=spec.platform)


#: One builder per kind; ``transport`` matters to the HTTP kinds only.
BUILDERS: dict[TargetKind, Callable[[TargetSpec, Transport], Collector]] = {
    "http": _http,
    "prometheus": _prometheus,
    "prometheus_query": _prometheus_query,
    "postgres": _postgres,
    "redis": _redis,
    "host": _host,
}


def build_collectors(
    targets: Sequence[TargetSpec], transport: httpx.AsyncBaseTransport | None = None
) -> list[Collector]:
    """One collector per target, in order; duplicate collector names are refused.

    ``transport`` replaces the network for the HTTP probes and scrapes (the demo's in-process
    simulator, tests); everything from the response on is the service's own code path.
    """
    collectors = [BUILDERS[spec.kind](spec, transport) for spec in targets]
    names = [collector.name for collector in collectors]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError(
            "targets", f"expected unique kind and name, got duplicates {duplicates}"
        )
    return collectors


def collection_timeout_s(
    targets: Sequence[TargetSpec],
    margin_s: float = 1.0,
    concurrency: int = DEFAULT_COLLECTION_CONCURRENCY,
    ceiling_s: float | None = None,
) -> float:
    """A ``collect_all`` deadline that lets every target's own timeout fire first.

    At most ``concurrency`` collectors run at once and each one's timeout starts when it gets
    its turn, so ``n`` targets take up to ``ceil(n / concurrency)`` waves of the largest
    timeout: a deadline of one timeout cut off every target past the first wave as soon as a
    round ran slowly (250 targets at 64 at once are four waves; on a loaded machine the last
    ones were cut every round, though no target was slow). ``ceiling_s`` (the health-check
    interval) caps it: a round must end before the next one is due.

    >>> collection_timeout_s([TargetSpec(kind="host", name="box", timeout_s=2.0)])
    3.0
    >>> specs = [TargetSpec(kind="host", name=f"box{i}", timeout_s=5.0) for i in range(250)]
    >>> collection_timeout_s(specs), collection_timeout_s(specs, ceiling_s=15.0)
    (21.0, 15.0)
    """
    if concurrency < 1:
        raise ValidationError("concurrency", f"expected >= 1, got {concurrency!r}")
    waves = max(1, -(-len(targets) // concurrency))
    deadline_s = waves * max((spec.timeout_s for spec in targets), default=0.0) + margin_s
    return deadline_s if ceiling_s is None else min(deadline_s, ceiling_s)


#: The live simulator's shared dependencies, each scraped from its exporter's page.
SIMULATED_DEPENDENCIES: tuple[str, ...] = ("postgres", "redis")


def simulator_targets(
    base_url: str,
    platforms: Sequence[str],
    timeout_s: float = 5.0,
    dependencies: Sequence[str] = SIMULATED_DEPENDENCIES,
) -> list[TargetSpec]:
    """Probe and scrape targets for each platform of the live simulator (``sim serve``), and
    a scrape target for each shared dependency.

    The simulator serves ``/p/<platform>/health`` and ``/p/<platform>/metrics``, and the
    dependencies' gauges once each on ``/deps/<dependency>/metrics`` (as a postgres_exporter
    or redis_exporter would), so a database symptom is one series, not one per platform. A
    dependency target has no ``platform``: its series carry ``dependency`` and ``target``.

    >>> specs = simulator_targets("http://127.0.0.1:8700/", ["tackle.io"], dependencies=["redis"])
    >>> [spec.url for spec in specs]  # doctest: +NORMALIZE_WHITESPACE
    ['http://127.0.0.1:8700/p/tackle.io/health', 'http://127.0.0.1:8700/p/tackle.io/metrics',
     'http://127.0.0.1:8700/deps/redis/metrics']
    """
    root = base_url.rstrip("/")
    targets: list[TargetSpec] = []
    for platform in platforms:
        health_url, metrics_url = f"{root}/p/{platform}/health", f"{root}/p/{platform}/metrics"
        targets.append(TargetSpec("http", platform, health_url, platform, timeout_s))
        targets.append(TargetSpec("prometheus", platform, metrics_url, platform, timeout_s))
    for dependency in dependencies:
        url = f"{root}/deps/{dependency}/metrics"
        targets.append(TargetSpec("prometheus", dependency, url, None, timeout_s))
    return targets
