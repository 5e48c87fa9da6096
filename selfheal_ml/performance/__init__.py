"""Performance analysis of a database-backed service: pure rules over collected statistics.

The family's API in prose: an adapter (:mod:`selfheal_ml.collectors.postgres_analysis`) reads
what a real server offers into a :class:`Snapshot` (statements with their calls and mean time,
tables with their sequential scans, indexes with their scans and sizes, the server's buffer
hits and connections, Redis' keyspace counters, what sampling saw per request trace);
:func:`analyse` turns it into :class:`Finding` objects, each with its evidence and a
recommendation. Queries are fingerprinted and their filter columns read with libpg_query's
parser (:mod:`selfheal_ml.performance.normalise`, through ``pglast``; its ``normalise`` function
is imported from that module: the package attribute of the same name is the module).

Nothing here does I/O: the rules are plain functions, easy to test and to reuse from notebooks.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.performance.analysis import analyse
    from selfheal_ml.performance.board import FindingBoard
    from selfheal_ml.performance.findings import (
        Finding,
        FindingKind,
    )
    from selfheal_ml.performance.normalise import (
        FilterColumns,
        filter_columns,
        fingerprint,
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

# lazy: the parser (pglast, about 3 MB of a process) loads with the first fingerprint, not
# with every importer of a finding type (the runtime's finding board, the agents)
_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.performance.analysis": ("analyse",),
        "selfheal_ml.performance.board": ("FindingBoard",),
        "selfheal_ml.performance.findings": ("Finding", "FindingKind"),
        "selfheal_ml.performance.normalise": (
            "FilterColumns",
            "filter_columns",
            "fingerprint",
            "trace_id",
        ),
        "selfheal_ml.performance.statistics": (
            "IndexStats",
            "IndexTrial",
            "RedisStats",
            "ServerStats",
            "Snapshot",
            "StatementStats",
            "TableStats",
            "TraceObservation",
        ),
        "selfheal_ml.performance.thresholds": ("PerformanceThresholds",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


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
    "trace_id",
]
