"""Redis collector: reachability, latency, memory, hit ratio, clients, evictions.

Each round opens one short-lived client (``redis.asyncio``), times ``PING``, reads ``INFO``
once (memory, stats and clients sections) and closes the client before returning. Cumulative
counters (keyspace hits and misses, evicted keys, commands processed) become per-interval
figures using the previous round; the hit ratio is computed on the interval's lookups (on
the cumulative counts the first time).

A refused connection, an authentication error or a timeout gives ``cache_up 0`` and
``last_error``; no exception leaves ``collect``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from selfheal_ml.collectors.base import describe_failure, metric_point, target_labels
from selfheal_ml.collectors.counters import CounterTracker
from selfheal_ml.collectors.prometheus_math import hit_ratio
from selfheal_ml.events import MetricPoint

#: INFO counters turned into per-second rates, with the series they feed.
RATE_COUNTERS: tuple[tuple[str, str], ...] = (
    ("evicted_keys", "cache_evicted_keys_per_second"),
    ("total_commands_processed", "cache_commands_per_second"),
)


class RedisCollector:
    """Collects one Redis server's health within ``timeout_s`` (see module doc).

    Emits ``cache_up``, ``cache_connect_latency_ms``, ``cache_ping_latency_ms``,
    ``cache_memory_bytes`` (used), ``cache_memory_limit_bytes`` and
    ``cache_memory_used_ratio`` (only when ``maxmemory`` is set), ``cache_hit_ratio``,
    ``cache_connected_clients``, ``cache_evicted_keys_per_second`` and
    ``cache_commands_per_second``. Reuse one instance across rounds.
    """

    def __init__(
        self, target: str, url: str, timeout_s: float = 5.0, platform: str | None = None
    ) -> None:
        self.target = target
        self.url = url
        self.timeout_s = timeout_s
        self.platform = platform
        self.name = f"redis:{target}"
        self.last_error: str | None = None
        self._counters = CounterTracker()

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """One round; never raises for an unreachable or failing server."""
        labels = target_labels(self.target, self.platform)
        try:
            async with asyncio.timeout(self.timeout_s):
                connect_ms, ping_ms, info = await self._query()
        except (RedisError, OSError, TimeoutError) as error:
            self.last_error = describe_failure(error, self.timeout_s)
            return [metric_point("cache_up", labels, 0.0, now)]
        self.last_error = None
        return [
            metric_point("cache_up", labels, 1.0, now),
            metric_point("cache_connect_latency_ms", labels, connect_ms, now),
            metric_point("cache_ping_latency_ms", labels, ping_ms, now),
            *self._memory_points(info, labels, now),
            *self._counter_points(info, labels, now),
        ]

    async def _query(self) -> tuple[float, float, dict[str, Any]]:
        """Time connecting and ``PING``, read ``INFO``; the client is always closed."""
        client = redis_asyncio.Redis.from_url(
            self.url,
            socket_timeout=self.timeout_s,
            socket_connect_timeout=self.timeout_s,
            client_name="selfheal-ml-monitor",
        )
        started = time.perf_counter()
        try:
            await client.ping()  # the first command connects
            connected = time.perf_counter()
            await client.ping()
            ping_ms = (time.perf_counter() - connected) * 1000.0
            info: dict[str, Any] = await client.info()
        finally:
            await client.aclose()
        return (connected - started) * 1000.0, ping_ms, info

    def _memory_points(
        self, info: dict[str, Any], labels: dict[str, str], now: datetime
    ) -> list[MetricPoint]:
        used = float(info.get("used_memory", 0.0))
        limit = float(info.get("maxmemory", 0.0))
        clients = float(info.get("connected_clients", 0.0))
        points = [
            metric_point("cache_memory_bytes", labels, used, now),
            metric_point("cache_connected_clients", labels, clients, now),
        ]
        if limit > 0:
            points.append(metric_point("cache_memory_limit_bytes", labels, limit, now))
            points.append(metric_point("cache_memory_used_ratio", labels, used / limit, now))
        return points

    def _counter_points(
        self, info: dict[str, Any], labels: dict[str, str], now: datetime
    ) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for counter, series_name in RATE_COUNTERS:
            if counter not in info:
                continue
            delta = self._counters.observe(counter, float(info[counter]), now)
            if delta is not None:
                points.append(metric_point(series_name, labels, delta.rate_per_s, now))
        hits = float(info.get("keyspace_hits", 0.0))
        misses = float(info.get("keyspace_misses", 0.0))
        hit_delta = self._counters.observe("keyspace_hits", hits, now)
        miss_delta = self._counters.observe("keyspace_misses", misses, now)
        if hit_delta is not None and miss_delta is not None:
            hits, misses = hit_delta.increase, miss_delta.increase
        ratio = hit_ratio(hits, misses)
        if ratio is not None:
            points.append(metric_point("cache_hit_ratio", labels, ratio, now))
        return points
