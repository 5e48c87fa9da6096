"""Reads PostgreSQL's statistics views for the Performance analysis, counting its queries.

:class:`StatisticsReader` wraps one open connection. Every method is one query (so the overhead
budget, 1-2 queries per minute per watched database, can be checked from ``queries``), reads
catalogs and statistics views only, and takes no lock stronger than ``ACCESS SHARE``
(``pg_relation_size`` of an index takes that one). The raw rows become the domain's plain
values in :mod:`selfheal_ml.collectors.postgres_analysis`.

Our own statements carry the comment ``/* selfheal-ml */`` so that ``pg_stat_statements`` and
the activity sampler can leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from selfheal_ml.performance import IndexStats, TableStats

MARKER = "/* selfheal-ml */"

STATEMENTS_QUERY = f"""{MARKER}
SELECT queryid, query, calls, total_exec_time
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%%selfheal-ml%%'
"""

TABLES_QUERY = f"""{MARKER}
SELECT s.schemaname, s.relname,
       (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE s.n_live_tup END)::float8,
       s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0)
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
"""

INDEXES_QUERY = f"""{MARKER}
SELECT s.schemaname, s.relname, s.indexrelname, s.idx_scan, pg_relation_size(s.indexrelid),
       i.indisunique, i.indisprimary, i.indpred IS NOT NULL, i.indisvalid, am.amname,
       EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid),
       ARRAY(
           SELECT a.attname::text
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS key(attnum, position)
           LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = key.attnum
           WHERE key.position <= i.indnkeyatts
           ORDER BY key.position
       )
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
JOIN pg_class AS ic ON ic.oid = s.indexrelid
JOIN pg_am AS am ON am.oid = ic.relam
"""

SERVER_QUERY = f"""{MARKER}
SELECT current_setting('max_connections')::int,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       d.blks_hit, d.blks_read,
       ARRAY(
           SELECT extract(epoch FROM clock_timestamp() - a.xact_start)::float8
           FROM pg_stat_activity AS a
           WHERE a.datname = current_database() AND a.xact_start IS NOT NULL
             AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
       ),
       ARRAY(
           SELECT extract(epoch FROM clock_timestamp() - a.state_change)::float8
           FROM pg_stat_activity AS a
           WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
       ),
       (SELECT count(*) FROM pg_extension WHERE extname = 'hypopg') > 0
FROM pg_stat_database AS d
WHERE d.datname = current_database()
"""

SAMPLE_QUERY = f"""{MARKER}
SELECT pid, query, state, query_start, state_change, clock_timestamp()
FROM pg_stat_activity
WHERE datname = current_database()
  AND backend_type = 'client backend'
  AND pid <> pg_backend_pid()
  AND query_start IS NOT NULL
  AND query <> ''
  AND coalesce(application_name, '') NOT LIKE 'selfheal-ml%%'
  AND query NOT LIKE '%%selfheal-ml%%'
"""


@dataclass(frozen=True)
class ServerRow:
    """The server row: connections, cumulative buffer counters, ages, whether HypoPG is here."""

    max_connections: int
    connections: int
    buffer_hits: int
    buffer_reads: int
    transaction_ages_s: tuple[float, ...]
    lock_wait_ages_s: tuple[float, ...]
    hypopg: bool


class StatisticsReader:
    """One query per method over an open autocommit connection; ``queries`` counts them."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self.queries = 0

    async def fetch(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run one query and return its rows (``[]`` for a statement without rows)."""
        self.queries += 1
        cursor = await self.connection.execute(query, params)
        return list(await cursor.fetchall()) if cursor.description else []

    async def statements(self) -> dict[int, tuple[str, int, float]] | None:
        """``queryid -> (text, calls, total ms)`` from ``pg_stat_statements``; ``None`` when the
        extension is not installed in this database or not preloaded."""
        try:
            rows = await self.fetch(STATEMENTS_QUERY)
        except (psycopg.errors.UndefinedTable, psycopg.errors.ObjectNotInPrerequisiteState):
            return None
        return {int(row[0]): (str(row[1]), int(row[2]), float(row[3])) for row in rows}

    async def tables(self) -> dict[tuple[str, str], TableStats]:
        """Every user table with its cumulative scan counters."""
        rows = await self.fetch(TABLES_QUERY)
        return {
            (str(row[0]), str(row[1])): TableStats(
                schema=str(row[0]),
                table=str(row[1]),
                live_rows=float(row[2]),
                sequential_scans=int(row[3] or 0),
                sequential_rows_read=int(row[4] or 0),
                index_scans=int(row[5] or 0),
            )
            for row in rows
        }

    async def indexes(self) -> list[IndexStats]:
        """Every index of a user table, its key columns (empty with an expression key)."""
        rows = await self.fetch(INDEXES_QUERY)
        indexes = []
        for row in rows:
            columns = list(row[11] or [])
            indexes.append(
                IndexStats(
                    schema=str(row[0]),
                    table=str(row[1]),
                    index=str(row[2]),
                    columns=() if None in columns else tuple(str(c) for c in columns),
                    scans=int(row[3] or 0),
                    size_bytes=int(row[4] or 0),
                    unique=bool(row[5]),
                    primary=bool(row[6]),
                    partial=bool(row[7]),
                    valid=bool(row[8]),
                    method=str(row[9]),
                    constraint=bool(row[10]),
                )
            )
        return indexes

    async def server(self) -> ServerRow:
        """Connections, buffer counters, transaction and lock-wait ages, HypoPG's presence."""
        rows = await self.fetch(SERVER_QUERY)
        row = rows[0]
        return ServerRow(
            max_connections=int(row[0]),
            connections=int(row[1]),
            buffer_hits=int(row[2] or 0),
            buffer_reads=int(row[3] or 0),
            transaction_ages_s=tuple(float(age) for age in row[4] or ()),
            lock_wait_ages_s=tuple(float(age) for age in row[5] or ()),
            hypopg=bool(row[6]),
        )

    async def activity(self) -> list[tuple[Any, ...]]:
        """One look at the current database's sessions (see :data:`SAMPLE_QUERY`)."""
        return await self.fetch(SAMPLE_QUERY)
