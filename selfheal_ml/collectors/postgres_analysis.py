"""The Performance analysis of one PostgreSQL database: read, watch, read, analyse.

:class:`PostgresAnalyser` opens one read-only connection (``default_transaction_read_only``,
so even a bug cannot write), named ``selfheal-ml-performance``:

1. **Reading** (:class:`Reading`): ``pg_stat_statements`` when the extension is installed
   and preloaded, ``pg_stat_user_tables``, ``pg_stat_user_indexes`` + ``pg_index``, and the
   server row (connections vs ``max_connections``, buffer counters, open transaction and lock
   wait ages): four queries.
2. **Sampling** ``pg_stat_activity`` every ``sample_interval_s`` between two readings
   (:class:`~selfheal_ml.collectors.activity_sampler.ActivitySampler`): per-query figures
   when ``pg_stat_statements`` is absent, request traces (sqlcommenter comments) always.
3. **Window**: the second reading minus the first becomes a
   :class:`~selfheal_ml.performance.Snapshot`; the index candidates are tried on the planner
   (:func:`~selfheal_ml.collectors.index_trials.try_index`, at most ``max_trials``);
   :func:`~selfheal_ml.performance.analyse` gives the findings. The planner's answer for a
   candidate is kept ``trial_ttl_s`` (an hour), so rounds of an agent do not plan it again.

``watch(seconds)`` does the three steps once (``selfheal-ml analyze postgres``). The agent
calls ``round()`` on its interval instead: one reading per round, the window running from the
previous round's reading, so a round costs four queries. A sampling burst is taken only while
a problem is open: the agent says so (a latency or slow-query alert or anomaly on a platform
using the database, a diagnosis), or the previous round left a pending candidate
(:func:`wants_sampling`: a query finding, a suspected loop, a big table scanned sequentially
that no burst examined within ``trial_ttl_s``). Otherwise, without ``pg_stat_statements``, a
round adds one look at ``pg_stat_activity`` (the background budget: five queries per round);
a slow query that look catches is a finding, which opens a problem for the next round.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from selfheal_ml.collectors.activity_sampler import ActivitySampler
from selfheal_ml.collectors.index_trials import try_index
from selfheal_ml.collectors.postgres_statistics import ServerRow, StatisticsReader
from selfheal_ml.collectors.redis_statistics import read_redis_info, redis_window
from selfheal_ml.performance import (
    Finding,
    IndexTrial,
    PerformanceThresholds,
    ServerStats,
    Snapshot,
    StatementStats,
    TableStats,
    analyse,
    fingerprint,
)
from selfheal_ml.performance.index_rules import index_candidates
from selfheal_ml.performance.normalise import normalise

APPLICATION_NAME = "selfheal-ml-performance"
log = logging.getLogger("selfheal_ml.collectors.postgres_analysis")


@dataclass(frozen=True)
class Reading:
    """The cumulative counters at one instant (``at``: monotonic seconds)."""

    at: float
    statements: dict[int, tuple[str, int, float]] | None
    tables: dict[tuple[str, str], TableStats]
    indexes: list[Any]
    server: ServerRow
    redis: dict[str, Any] | None = None


@dataclass(frozen=True)
class AnalysisResult:
    """The findings of one window and what it cost the server.

    ``queries`` counts the analysis' own queries, sampling looks excluded (``samples``).
    """

    findings: list[Finding]
    snapshot: Snapshot
    statements_source: str
    hypopg: bool
    queries: int
    samples: int
    notes: list[str] = field(default_factory=list)


def _statement_window(
    first: dict[int, tuple[str, int, float]] | None, last: dict[int, tuple[str, int, float]]
) -> list[StatementStats]:
    """Per fingerprint, the calls and mean time of the window (``first`` may be ``None``)."""
    calls: dict[str, int] = defaultdict(int)
    total_ms: dict[str, float] = defaultdict(float)
    texts: dict[str, str] = {}
    for query_id, (text, count, total) in last.items():
        before = (first or {}).get(query_id, ("", 0, 0.0))
        added, spent = count - before[1], total - before[2]
        if added <= 0 or spent < 0:
            continue  # idle in the window, or the statistics were reset
        key = fingerprint(text)
        calls[key] += added
        total_ms[key] += spent
        texts.setdefault(key, normalise(text))
    return [
        StatementStats(key, texts[key], calls[key], total_ms[key] / calls[key]) for key in calls
    ]


def _table_window(
    first: dict[tuple[str, str], TableStats] | None, last: dict[tuple[str, str], TableStats]
) -> list[TableStats]:
    tables = []
    for key, table in last.items():
        before = (first or {}).get(key)
        if before is None:
            tables.append(table if first is not None else replace(table, sequential_scans=0))
            continue
        tables.append(
            replace(
                table,
                sequential_scans=max(0, table.sequential_scans - before.sequential_scans),
                sequential_rows_read=max(
                    0, table.sequential_rows_read - before.sequential_rows_read
                ),
                index_scans=max(0, table.index_scans - before.index_scans),
            )
        )
    return tables


def _server_window(first: ServerRow | None, last: ServerRow) -> ServerStats:
    hits = last.buffer_hits - first.buffer_hits if first else 0
    reads = last.buffer_reads - first.buffer_reads if first else 0
    return ServerStats(
        buffer_hits=max(0, hits),
        buffer_reads=max(0, reads),
        connections=last.connections,
        max_connections=last.max_connections,
        long_transactions=last.transaction_ages_s,
        lock_waits=last.lock_wait_ages_s,
    )


#: Findings about queries: sampling adds their evidence (durations, request traces).
QUERY_KINDS = frozenset({"slow_query", "missing_index", "n_plus_one"})


def wants_sampling(result: AnalysisResult, loop_ratio: float = 20.0) -> bool:
    """Whether the next agent round should sample ``pg_stat_activity`` by itself: a query
    finding is open (slow query, missing index, N+1 loop), or one query ran ``loop_ratio``
    times more often than the median query (a suspected N+1 loop, whose requests only sampled
    trace comments can tell). Index, cache and connection findings need no sampling.

    >>> from selfheal_ml.performance import Snapshot
    >>> quiet = AnalysisResult([], Snapshot(window_s=300), "sampling", False, 4, 1)
    >>> wants_sampling(quiet)
    False
    >>> wants_sampling(replace(quiet, findings=[Finding(kind="unused_index")]))
    False
    >>> wants_sampling(replace(quiet, findings=[Finding(kind="slow_query")]))
    True
    """
    if any(finding.kind in QUERY_KINDS for finding in result.findings):
        return True
    calls = sorted(statement.calls for statement in result.snapshot.statements)
    return bool(calls) and calls[-1] >= loop_ratio * calls[len(calls) // 2]


def scanned_tables(snapshot: Snapshot, thresholds: PerformanceThresholds) -> set[tuple[str, str]]:
    """The tables big enough for an index (``min_table_rows``) scanned sequentially in the
    window: candidates for a missing index, whose queries only sampling can name when
    ``pg_stat_statements`` is absent."""
    return {
        (table.schema, table.table)
        for table in snapshot.tables
        if table.live_rows >= thresholds.min_table_rows
        and table.sequential_scans >= thresholds.min_sequential_scans
    }


class PostgresAnalyser:
    """Finds the performance problems of the database at ``dsn`` (see module doc)."""

    def __init__(
        self,
        dsn: str,
        *,
        thresholds: PerformanceThresholds | None = None,
        sample_interval_s: float = 0.1,
        max_trials: int = 5,
        statement_timeout_ms: int = 2000,
        connect_timeout_s: float = 5.0,
        redis_url: str | None = None,
        name: str = "postgres",
        trial_ttl_s: float = 3600.0,
        platform: str | None = None,
    ) -> None:
        if not 0 < sample_interval_s < math.inf:
            raise ValueError(f"sample_interval_s: expected > 0, got {sample_interval_s!r}")
        self.dsn = dsn
        self.thresholds = thresholds or PerformanceThresholds()
        self.sample_interval_s = sample_interval_s
        self.max_trials = max_trials
        self.statement_timeout_ms = statement_timeout_ms
        self.connect_timeout_s = connect_timeout_s
        self.redis_url = redis_url
        self.name = name
        self.trial_ttl_s = trial_ttl_s
        self.platform = platform
        self._previous: Reading | None = None
        self._previous_wall: datetime | None = None
        # when a burst last examined each big table scanned sequentially (monotonic seconds)
        self._examined: dict[tuple[str, str], float] = {}
        # the big tables that asked for the next round's burst (scanned, not examined)
        self._pending: set[tuple[str, str]] = set()
        self._sampling_wanted = False
        self._trial_cache: dict[
            tuple[str, str, str, tuple[str, ...]], tuple[float, IndexTrial | None]
        ] = {}

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        options = " ".join(
            (
                f"-c statement_timeout={self.statement_timeout_ms}",
                "-c lock_timeout=1000",
                "-c default_transaction_read_only=on",
                "-c plan_cache_mode=force_generic_plan",
                "-c max_parallel_workers_per_gather=0",
            )
        )
        return await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(self.connect_timeout_s)),
            application_name=APPLICATION_NAME,
            options=options,
        )

    async def _read(self, reader: StatisticsReader) -> Reading:
        redis = await read_redis_info(self.redis_url) if self.redis_url else None
        return Reading(
            at=time.monotonic(),
            statements=await reader.statements(),
            tables=await reader.tables(),
            indexes=await reader.indexes(),
            server=await reader.server(),
            redis=redis,
        )

    async def _sample(
        self, reader: StatisticsReader, sampler: ActivitySampler, seconds: float
    ) -> None:
        deadline = time.monotonic() + seconds
        while True:
            sampler.observe(await reader.activity())
            if time.monotonic() + self.sample_interval_s > deadline:
                return
            await asyncio.sleep(self.sample_interval_s)

    async def watch(self, seconds: float) -> AnalysisResult:
        """Read, sample for ``seconds``, read again, analyse the window."""
        connection = await self._connect()
        async with connection:
            reader = StatisticsReader(connection)
            first = await self._read(reader)
            sampler = ActivitySampler(datetime.now(UTC))
            await self._sample(reader, sampler, seconds)
            last = await self._read(reader)
            return await self._analyse(reader, first, last, sampler)

    async def round(
        self, sample_seconds: float = 0.0, problem_open: bool = False, requests: int | None = None
    ) -> AnalysisResult:
        """One agent round: a sampling burst of ``sample_seconds`` when ``problem_open`` (the
        agent knows of a latency or slow-query problem on the database's platform) or the
        previous round left a pending candidate (:meth:`_wants_burst`); else, without
        ``pg_stat_statements``, one background look. Then read and analyse the window since
        the previous round's reading (the first round, at start-up, only reads: a connection
        held for a burst then would take one of a connection-limited role's slots).
        ``requests``: the requests the database's platform answered in the window, when
        known (calls per request reveal N+1 loops without trace comments)."""
        started = datetime.now(UTC)
        connection = await self._connect()
        async with connection:
            reader = StatisticsReader(connection)
            sampler = ActivitySampler(self._previous_wall or started)
            burst = sample_seconds > 0 and self._previous is not None
            burst = burst and (problem_open or self._sampling_wanted)
            if burst:
                await self._sample(reader, sampler, sample_seconds)
            elif self._previous is not None and self._previous.statements is None:
                sampler.observe(await reader.activity())  # the background look
            last = await self._read(reader)
            result = await self._analyse(reader, self._previous, last, sampler, requests)
        self._previous, self._previous_wall = last, started
        self._sampling_wanted = self._wants_burst(result, examined=burst)
        return result

    def _wants_burst(self, result: AnalysisResult, examined: bool) -> bool:
        """Whether the next round samples by itself: :func:`wants_sampling`, or (without
        ``pg_stat_statements``) a big table scanned sequentially that no burst examined
        within ``trial_ttl_s`` (once examined, its queries' trials are cached that long).
        A burst examines the tables scanned in its window and the tables that asked for it:
        the server publishes a backend's scan counts up to a second late, so a burst's own
        window may show no scan of the table whose scans (seen a round earlier) it sampled."""
        now = time.monotonic()
        scanned = scanned_tables(result.snapshot, self.thresholds)
        if examined:
            self._examined.update(dict.fromkeys(scanned | self._pending, now))
        self._examined = {
            key: at for key, at in self._examined.items() if now - at < self.trial_ttl_s
        }
        self._pending = (
            scanned - set(self._examined) if result.statements_source == "sampling" else set()
        )
        return wants_sampling(result) or bool(self._pending)

    async def try_watch(self, seconds: float) -> AnalysisResult | None:
        """:meth:`watch`, or ``None`` and a log line when the server fails us."""
        try:
            return await self.watch(seconds)
        except (psycopg.Error, OSError, TimeoutError) as error:
            log.warning("performance analysis of %s failed: %s", self.name, error)
            return None

    async def try_round(
        self, sample_seconds: float = 0.0, problem_open: bool = False, requests: int | None = None
    ) -> AnalysisResult | None:
        """:meth:`round`, or ``None`` and a log line when the server cannot be reached or a
        query fails (the agent keeps its last findings)."""
        try:
            return await self.round(sample_seconds, problem_open, requests)
        except (psycopg.Error, OSError, TimeoutError) as error:
            log.warning("performance round on %s failed: %s", self.name, error)
            return None

    async def _analyse(
        self,
        reader: StatisticsReader,
        first: Reading | None,
        last: Reading,
        sampler: ActivitySampler,
        requests: int | None = None,
    ) -> AnalysisResult:
        with_statements = last.statements is not None
        statements = (
            _statement_window(first.statements if first else None, last.statements)
            if last.statements is not None and first is not None
            else ([] if with_statements else sampler.statements())
        )
        snapshot = Snapshot(
            window_s=last.at - first.at if first else 0.0,
            statements=tuple(statements),
            tables=tuple(_table_window(first.tables if first else None, last.tables)),
            indexes=tuple(last.indexes),
            traces=tuple(sampler.traces()),
            server=_server_window(first.server if first else None, last.server),
            redis=redis_window(first.redis, last.redis)
            if first and first.redis is not None and last.redis is not None
            else None,
            requests=requests if first is not None else None,
        )
        trials = await self._trials(reader, snapshot, last.server.hypopg)
        snapshot = replace(snapshot, trials=tuple(trials))
        return AnalysisResult(
            findings=analyse(snapshot, self.thresholds),
            snapshot=snapshot,
            statements_source="pg_stat_statements" if with_statements else "sampling",
            hypopg=last.server.hypopg,
            queries=reader.queries - sampler.looks,
            samples=sampler.looks,
        )

    async def _trials(
        self, reader: StatisticsReader, snapshot: Snapshot, hypopg: bool
    ) -> list[IndexTrial]:
        tables = {(table.schema, table.table): table for table in snapshot.tables}
        trials = []
        now = time.monotonic()
        for candidate in index_candidates(snapshot, self.thresholds)[: self.max_trials]:
            table = tables[(candidate.schema, candidate.table)]
            key = (candidate.statement.fingerprint, candidate.schema, candidate.table,
                   candidate.columns)  # fmt: skip
            cached = self._trial_cache.get(key)
            if cached is not None and now - cached[0] < self.trial_ttl_s:
                if cached[1] is not None:
                    trials.append(cached[1])
                continue  # the planner's answer is kept for trial_ttl_s: no query
            trial = await try_index(
                reader,
                candidate.statement.query,
                candidate.schema,
                candidate.table,
                candidate.columns,
                candidate.statement.fingerprint,
                table.live_rows,
                hypopg,
            )
            self._trial_cache[key] = (now, trial)
            if trial is not None:
                trials.append(trial)
        return trials
