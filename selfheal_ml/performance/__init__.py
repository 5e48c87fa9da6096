"""Performance analysis of a database-backed service: pure rules over collected statistics.

The family's API in prose: an adapter (:mod:`selfheal_ml.collectors.postgres_analysis`) reads
what a real server offers into a :class:`Snapshot` (statements with their calls and mean time,
tables with their sequential scans, indexes with their scans and sizes, the server's buffer
hits and connections, Redis' keyspace counters, what sampling saw per request trace);
:func:`analyse` turns it into :class:`Finding` objects, each with its evidence and a
recommendation. Queries are fingerprinted and their filter columns read with libpg_query's
parser (:mod:`selfheal_ml.performance.normalise`, through ``pglast``).

Nothing here does I/O: the rules are plain functions, easy to test and to reuse from notebooks.
"""

from selfheal_ml.performance.analysis import analyse
from selfheal_ml.performance.board import FindingBoard
from selfheal_ml.performance.findings import Finding, FindingKind
from selfheal_ml.performance.normalise import (
    FilterColumns,
    filter_columns,
    fingerprint,
    normalise,
    trace_id,
)
from selfheal_ml.performance.statistics import (
    IndexStats,
    IndexTrial,
    RedisStats,
    ServerStats,
    Snapshot,
    StatementStats,
    TableStats,
    TraceObservation,
)
from selfheal_ml.performance.thresholds import PerformanceThresholds

__all__ = [
    "FilterColumns",
    "Finding",
    "FindingBoard",
    "FindingKind",
    "IndexStats",
    "IndexTrial",
    "PerformanceThresholds",
    "RedisStats",
    "ServerStats",
    "Snapshot",
    "StatementStats",
    "TableStats",
    "TraceObservation",
    "analyse",
    "filter_columns",
    "fingerprint",
    "normalise",
    "trace_id",
]
