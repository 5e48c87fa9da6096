"""Collectors: the Monitor agent's eyes on HTTP services, PostgreSQL, Redis and the host.

A collector (:class:`Collector`) has a ``name`` and ``async collect(now) -> list[MetricPoint]``.
:func:`collect_all` runs a round of them concurrently, each bounded by a timeout, so one that
hangs or raises fails alone (``collector_up 0`` and an entry in ``errors``) while the others'
points arrive. Collectors of remote targets never raise for an unreachable target: they emit
``*_up 0`` and set ``last_error``. They open their connections per round and close them before
returning, so nothing leaks and nothing needs closing. Stateful ones (Prometheus, PostgreSQL,
Redis) remember the previous round's counters: build them once (:func:`build_collectors` from
:class:`TargetSpec` values) and reuse them.

Series catalogue (labels: ``target`` = target name, plus ``platform`` when configured):

==========================================  ======================================================
``collector_up{collector}``                 1 if the collector ran, 0 if it raised or timed out
``probe_up``                                1 if the HTTP GET answered with a status below 400
``probe_latency_ms``                        time to the response, connecting included (under
                                            virtual time: the latency the transport reports)
``probe_status_code``                       HTTP status of the response
``scrape_up``, ``scrape_duration_ms``       Prometheus ``/metrics`` fetched and parsed; time taken
``scrape_samples``                          samples on the page
``<gauge>{...}``                            exposed gauges and untyped samples, unchanged
``<counter>_per_second{...}``               counter ``<counter>_total`` as a reset-aware rate
``<histogram>_p50|_p95|_p99{...}``          quantiles of the interval's observations (its unit)
``<histogram>_count_per_second{...}``       observations per second
``db_up``                                   1 if PostgreSQL accepted a connection and ``SELECT 1``
``db_connect_latency_ms``                   time to connect
``db_select1_latency_ms``                   time of ``SELECT 1``
``db_connections{state}``                   client sessions: total, active, idle,
                                            idle_in_transaction
``db_max_connections``                      the ``max_connections`` setting
``db_connections_used_ratio``               total sessions / max_connections
``db_long_running_queries``                 sessions active for longer than 5 s
``db_slow_queries``                         sessions of the target's database whose active
                                            query has run longer than its ``slow_query_ms``
``db_xact_commit_per_second``               commits per second (``pg_stat_database``)
``db_xact_rollback_per_second``             rollbacks per second
``db_deadlocks_per_second``                 deadlocks per second
``db_cache_hit_ratio``                      blks_hit / (blks_hit + blks_read) over the interval
``cache_up``                                1 if Redis answered ``PING``
``cache_connect_latency_ms``                time to connect and answer the first ``PING``
``cache_ping_latency_ms``                   round trip of a ``PING`` on an open connection
``cache_memory_bytes``                      ``used_memory``
``cache_memory_limit_bytes``                ``maxmemory`` (only when set)
``cache_memory_used_ratio``                 used / maxmemory (only when maxmemory is set)
``cache_hit_ratio``                         keyspace hits / lookups over the interval
``cache_connected_clients``                 ``connected_clients``
``cache_evicted_keys_per_second``           evictions per second
``cache_commands_per_second``               commands processed per second
``host_cpu_percent{host}``                  machine CPU since the previous reading
``host_memory_percent{host}``               machine memory in use
``host_disk_percent{host}``                 use of the configured filesystem
``process_cpu_percent{host}``               this service's own CPU (overhead watch)
``process_rss_bytes{host}``                 this service's own resident memory
==========================================  ======================================================

Rates and interval ratios need two rounds: the first round of a series emits none.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.collectors.base import (
        CollectionResult,
        Collector,
        collect_all,
        metric_point,
        target_labels,
    )
    from selfheal_ml.collectors.factory import (
        SIMULATED_DEPENDENCIES,
        TargetSpec,
        build_collectors,
        collection_timeout_s,
        simulator_targets,
    )
    from selfheal_ml.collectors.host import HostCollector
    from selfheal_ml.collectors.http_probe import HttpProbe
    from selfheal_ml.collectors.postgres import PostgresCollector
    from selfheal_ml.collectors.prometheus_scrape import ExpositionConverter, PrometheusScrape
    from selfheal_ml.collectors.query_trace import PostgresIndexInvestigator
    from selfheal_ml.collectors.redis_cache import RedisCollector

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.collectors.base": (
            "CollectionResult",
            "Collector",
            "collect_all",
            "metric_point",
            "target_labels",
        ),
        "selfheal_ml.collectors.factory": (
            "SIMULATED_DEPENDENCIES",
            "TargetSpec",
            "build_collectors",
            "collection_timeout_s",
            "simulator_targets",
        ),
        "selfheal_ml.collectors.host": ("HostCollector",),
        "selfheal_ml.collectors.http_probe": ("HttpProbe",),
        "selfheal_ml.collectors.postgres": ("PostgresCollector",),
        "selfheal_ml.collectors.prometheus_scrape": (
            "ExpositionConverter",
            "PrometheusScrape",
        ),
        "selfheal_ml.collectors.query_trace": ("PostgresIndexInvestigator",),
        "selfheal_ml.collectors.redis_cache": ("RedisCollector",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "SIMULATED_DEPENDENCIES",
    "CollectionResult",
    "Collector",
    "ExpositionConverter",
    "HostCollector",
    "HttpProbe",
    "PostgresCollector",
    "PostgresIndexInvestigator",
    "PrometheusScrape",
    "RedisCollector",
    "TargetSpec",
    "build_collectors",
    "collect_all",
    "collection_timeout_s",
    "metric_point",
    "simulator_targets",
    "target_labels",
]
