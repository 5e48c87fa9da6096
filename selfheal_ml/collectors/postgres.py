"""PostgreSQL collector: reachability, latency, connections and database counters.

Each round opens one short-lived async connection (psycopg 3, autocommit), times ``SELECT 1``,
reads connection states from ``pg_stat_activity`` (client backends, this collector's own
session excluded), how many of the current database's client sessions have an active query
running longer than ``slow_query_ms`` (``db_slow_queries``: the live sign of a query that lost
its index; it needs no ``pg_stat_statements``), ``max_connections``, and the current
database's row of ``pg_stat_database``, whose cumulative counters become per-second rates
between rounds.
The connection is closed before ``collect`` returns, whatever happens.

A refused connection, bad credentials or a timeout gives ``db_up 0`` and ``last_error``; no
exception leaves ``collect``. Seeing other roles' sessions in ``pg_stat_activity`` needs a
superuser or the ``pg_monitor`` role.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from selfheal_ml.collectors.base import describe_failure, metric_point, target_labels
from selfheal_ml.collectors.counters import CounterTracker
from selfheal_ml.collectors.prometheus_math import hit_ratio
from selfheal_ml.events import MetricPoint

STATS_QUERY = """
SELECT
    current_setting('max_connections')::int AS max_connections,
    activity.total, activity.active, activity.idle, activity.idle_in_transaction,
    activity.long_running, activity.slow_queries,
    stats.xact_commit, stats.xact_rollback, stats.blks_hit, stats.blks_read, stats.deadlocks
FROM (
    SELECT
        count(*) AS total,
        count(*) FILTER (WHERE state = 'active') AS active,
        count(*) FILTER (WHERE state = 'idle') AS idle,
        count(*) FILTER (WHERE state LIKE 'idle in transaction%%') AS idle_in_transaction,
        count(*) FILTER (
            WHERE state = 'active' AND now() - query_start > make_interval(secs => %(slow_s)s)
        ) AS long_running,
        count(*) FILTER (
            WHERE state = 'active' AND datname = current_database()
              AND clock_timestamp() - query_start > make_interval(secs => %(slow_query_s)s)
        ) AS slow_queries
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
) AS activity
CROSS JOIN (
    SELECT xact_commit, xact_rollback, blks_hit, blks_read, deadlocks
    FROM pg_stat_database
    WHERE datname = current_database()
) AS stats
"""

CONNECTION_STATES = ("total", "active", "idle", "idle_in_transaction")
RATE_COUNTERS = ("xact_commit", "xact_rollback", "deadlocks")


class PostgresCollector:
    """Collects one PostgreSQL server's health within ``timeout_s`` (see module doc).

    Emits ``db_up``, ``db_connect_latency_ms``, ``db_select1_latency_ms``,
    ``db_connections{state=...}``, ``db_max_connections``, ``db_connections_used_ratio``,
    ``db_long_running_queries`` (active longer than ``slow_query_s``), ``db_slow_queries``
    (sessions of the current database active longer than ``slow_query_ms``),
    ``db_xact_commit_per_second``, ``db_xact_rollback_per_second``,
    ``db_deadlocks_per_second`` and ``db_cache_hit_ratio``. Reuse one instance across rounds:
    rates and the interval hit ratio need the previous round's counters.
    """

    def __init__(
        self,
        target: str,
        dsn: str,
        timeout_s: float = 5.0,
        platform: str | None = None,
        slow_query_s: float = 5.0,
        slow_query_ms: float = 1000.0,
    ) -> None:
        self.target = target
        self.dsn = dsn
        self.timeout_s = timeout_s
        self.platform = platform
        self.slow_query_s = slow_query_s
        self.slow_query_ms = slow_query_ms
        self.name = f"postgres:{target}"
        self.last_error: str | None = None
        self._counters = CounterTracker()

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """One round; never raises for an unreachable or failing server."""
        labels = target_labels(self.target, self.platform)
        try:
            async with asyncio.timeout(self.timeout_s):
                latencies_ms, row = await self._query()
        except (psycopg.Error, OSError, TimeoutError) as error:
            self.last_error = describe_failure(error, self.timeout_s)
            down = [metric_point("db_up", labels, 0.0, now)]
            if _connections_exhausted(error):  # the server answered: no connection slot left
                down.append(metric_point("db_connections_exhausted", labels, 1.0, now))
            return down
        self.last_error = None
        points = [
            metric_point("db_up", labels, 1.0, now),
            metric_point("db_connect_latency_ms", labels, latencies_ms[0], now),
            metric_point("db_select1_latency_ms", labels, latencies_ms[1], now),
        ]
        if row is not None:
            points.extend(self._activity_points(row, labels, now))
            points.extend(self._counter_points(row, labels, now))
        return points

    async def _query(self) -> tuple[tuple[float, float], dict[str, Any] | None]:
        """Connect, time ``SELECT 1``, read the stats row; the connection is always closed."""
        started = time.perf_counter()
        connection = await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(self.timeout_s)),
            application_name="selfheal-ml-monitor",
            row_factory=dict_row,
        )
        async with connection:
            connected = time.perf_counter()
            await connection.execute("SELECT 1")
            selected = time.perf_counter()
            limits = {"slow_s": self.slow_query_s, "slow_query_s": self.slow_query_ms / 1000.0}
            cursor = await connection.execute(STATS_QUERY, limits)
            row = await cursor.fetchone()
        latencies_ms = ((connected - started) * 1000.0, (selected - connected) * 1000.0)
        return latencies_ms, row

    def _activity_points(
        self, row: dict[str, Any], labels: dict[str, str], now: datetime
    ) -> list[MetricPoint]:
        points = [
            metric_point("db_connections", {**labels, "state": state}, float(row[state]), now)
            for state in CONNECTION_STATES
        ]
        max_connections = float(row["max_connections"])
        points.append(metric_point("db_max_connections", labels, max_connections, now))
        if max_connections > 0:
            used = float(row["total"]) / max_connections
            points.append(metric_point("db_connections_used_ratio", labels, used, now))
        long_running = float(row["long_running"])
        points.append(metric_point("db_long_running_queries", labels, long_running, now))
        slow = float(row["slow_queries"])
        points.append(metric_point("db_slow_queries", labels, slow, now))
        return points

    def _counter_points(
        self, row: dict[str, Any], labels: dict[str, str], now: datetime
    ) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for counter in RATE_COUNTERS:
            delta = self._counters.observe(counter, float(row[counter]), now)
            if delta is not None:
                name = f"db_{counter}_per_second"
                points.append(metric_point(name, labels, delta.rate_per_s, now))
        hits, reads = float(row["blks_hit"]), float(row["blks_read"])
        hit_delta = self._counters.observe("blks_hit", hits, now)
        read_delta = self._counters.observe("blks_read", reads, now)
        if hit_delta is not None and read_delta is not None:
            hits, reads = hit_delta.increase, read_delta.increase
        ratio = hit_ratio(hits, reads)
        if ratio is not None:
            points.append(metric_point("db_cache_hit_ratio", labels, ratio, now))
        return points


def _connections_exhausted(error: BaseException) -> bool:
    """Whether the server refused us for lack of connection slots (SQLSTATE 53300: the
    server's or the role's connection limit), i.e. it is up but its connections are used up.

    >>> _connections_exhausted(psycopg.errors.TooManyConnections("too many connections"))
    True
    >>> _connections_exhausted(OSError("refused"))
    False
    """
    if isinstance(error, psycopg.errors.TooManyConnections):
        return True
    return "too many connections" in str(error) or "remaining connection slots" in str(error)
