"""What the Performance rules read: statistics of one watched window, as plain values.

The collection adapter fills a :class:`Snapshot`; counters that are cumulative on the server
(calls, scans, buffer hits) are the window's increase, except ``IndexStats.scans``, which is
the count since the last statistics reset (an index "never used" is judged over that span).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StatementStats:
    """One query (by fingerprint) during the window: how often and how long it ran.

    ``source`` says where the figures come from: ``pg_stat_statements`` (exact calls and mean)
    or ``sampling`` (executions seen in ``pg_stat_activity``: a lower bound on calls, and the
    mean of the durations seen, biased towards long executions).
    """

    fingerprint: str
    query: str
    calls: int
    mean_ms: float
    source: str = "pg_stat_statements"

    @property
    def total_ms(self) -> float:
        """Time spent in this query during the window."""
        return self.calls * self.mean_ms


@dataclass(frozen=True)
class TableStats:
    """One table: its size and how it was read during the window."""

    schema: str
    table: str
    live_rows: float
    sequential_scans: int
    sequential_rows_read: int
    index_scans: int


@dataclass(frozen=True)
class IndexStats:
    """One index: what it covers, its size, and its scans since the statistics reset.

    ``columns`` is empty when a key is an expression (such indexes are not compared).
    """

    schema: str
    table: str
    index: str
    columns: tuple[str, ...]
    scans: int
    size_bytes: int
    unique: bool = False
    primary: bool = False
    partial: bool = False
    valid: bool = True
    method: str = "btree"
    constraint: bool = False


@dataclass(frozen=True)
class IndexTrial:
    """The planner's view of one candidate index for one query (see ``index_rules``).

    ``selectivity`` is the fraction of the table's rows the generic plan expects the filter to
    keep; ``cost_after`` is the plan's cost with a HypoPG hypothetical index, ``None`` when
    HypoPG is not installed.
    """

    fingerprint: str
    schema: str
    table: str
    columns: tuple[str, ...]
    selectivity: float
    cost_before: float
    cost_after: float | None = None


@dataclass(frozen=True)
class TraceObservation:
    """How many distinct executions of one query sampling saw inside one request trace."""

    fingerprint: str
    trace_id: str
    executions: int


@dataclass(frozen=True)
class ServerStats:
    """The server during the window: buffer cache, connections, long transactions, lock waits.

    ``long_transactions`` and ``lock_waits`` are the ages in seconds of the current database's
    open transactions and of its sessions waiting for a lock, at the end of the window.
    """

    buffer_hits: int = 0
    buffer_reads: int = 0
    connections: int = 0
    max_connections: int = 0
    long_transactions: tuple[float, ...] = ()
    lock_waits: tuple[float, ...] = ()


@dataclass(frozen=True)
class RedisStats:
    """Redis during the window (``INFO``): keyspace hits and misses, evictions, memory."""

    hits: int
    misses: int
    evicted_keys: int = 0
    used_memory_bytes: int = 0
    max_memory_bytes: int = 0
    fragmentation_ratio: float = 1.0


@dataclass(frozen=True)
class Snapshot:
    """Everything one analysis window collected, for :func:`selfheal_ml.performance.analyse`.

    ``requests`` is how many requests the service answered in the window when known (from its
    request counters): calls per request then reveal N+1 loops without trace comments.
    """

    window_s: float
    statements: tuple[StatementStats, ...] = ()
    tables: tuple[TableStats, ...] = ()
    indexes: tuple[IndexStats, ...] = ()
    trials: tuple[IndexTrial, ...] = ()
    traces: tuple[TraceObservation, ...] = ()
    server: ServerStats | None = None
    redis: RedisStats | None = None
    requests: int | None = None
    notes: tuple[str, ...] = field(default=())
