"""The Performance analysis of one Redis server: ``INFO`` each round, the window's findings.

:class:`RedisAnalyser` has the agent-facing shape of
:class:`~selfheal_ml.collectors.postgres_analysis.PostgresAnalyser` (``round``, ``watch``,
``try_round``, ``try_watch``), so the Performance agent runs a Redis target like a database:
each round reads ``INFO`` (``stats`` and ``memory``: two commands), the window since the
previous round becomes :class:`~selfheal_ml.performance.RedisStats`, and
:func:`~selfheal_ml.performance.analyse` reports a poor hit ratio (``cache_inefficiency``),
evictions (``cache_evictions``) and fragmented memory (``memory_fragmentation``). The first
round has no window: it judges only the gauges (fragmentation). It never writes to Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from selfheal_ml.collectors.postgres_analysis import AnalysisResult
from selfheal_ml.collectors.redis_statistics import read_redis_info, redis_window
from selfheal_ml.performance import PerformanceThresholds, Snapshot, analyse

INFO_COMMANDS = 2  # INFO stats, INFO memory
log = logging.getLogger("selfheal_ml.collectors.redis_analysis")


class RedisAnalyser:
    """Finds the cache problems of the Redis at ``url`` (see module doc)."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "redis",
        platform: str | None = None,
        thresholds: PerformanceThresholds | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.name = name
        self.platform = platform
        self.thresholds = thresholds or PerformanceThresholds()
        self.timeout_s = timeout_s
        self._previous: tuple[float, dict[str, Any]] | None = None

    async def _read(self) -> tuple[float, dict[str, Any]]:
        return time.monotonic(), await read_redis_info(self.url, self.timeout_s)

    def _result(
        self, first: tuple[float, dict[str, Any]] | None, last: tuple[float, dict[str, Any]]
    ) -> AnalysisResult:
        window_s = last[0] - first[0] if first else 0.0
        stats = redis_window(first[1] if first else last[1], last[1])
        snapshot = Snapshot(window_s=window_s, redis=stats)
        reads = 2 if first is not None and first is not self._previous else 1
        return AnalysisResult(
            findings=analyse(snapshot, self.thresholds),
            snapshot=snapshot,
            statements_source="redis",
            hypopg=False,
            queries=reads * INFO_COMMANDS,
            samples=0,
        )

    async def round(
        self, sample_seconds: float = 0.0, problem_open: bool = False, requests: int | None = None
    ) -> AnalysisResult:
        """One agent round: read ``INFO``, analyse the window since the previous round (the
        other arguments do not apply: Redis has nothing to sample and no queries)."""
        last = await self._read()
        result = self._result(self._previous, last)
        self._previous = last
        return result

    async def watch(self, seconds: float) -> AnalysisResult:
        """Read, wait ``seconds``, read again, analyse the window."""
        first = await self._read()
        await asyncio.sleep(seconds)
        return self._result(first, await self._read())

    async def try_round(
        self, sample_seconds: float = 0.0, problem_open: bool = False, requests: int | None = None
    ) -> AnalysisResult | None:
        """:meth:`round`, or ``None`` and a log line when Redis fails us."""
        try:
            return await self.round(sample_seconds, problem_open)
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("performance round on %s failed: %s", self.name, error)
            return None

    async def try_watch(self, seconds: float) -> AnalysisResult | None:
        """:meth:`watch`, or ``None`` and a log line when Redis fails us."""
        try:
            return await self.watch(seconds)
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("performance analysis of %s failed: %s", self.name, error)
            return None
