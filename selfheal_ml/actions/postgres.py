"""PostgreSQL executor: terminate idle or stuck sessions, ``REINDEX``, ``CREATE INDEX
CONCURRENTLY`` (psycopg 3, one short-lived autocommit connection per action).

Actions and their ``params``:

- ``pg_terminate_idle``: ``pg_terminate_backend`` on client sessions of the current database
  idle (or idle in a transaction) for more than ``older_than_s`` (default 300);
  ``application_name`` narrows it to one application. Our own session is never touched.
- ``pg_terminate_stuck``: the same for sessions whose current query has run longer than
  ``older_than_s``.
- ``pg_reindex``: ``REINDEX INDEX|TABLE [CONCURRENTLY] <schema.name>`` from ``kind``
  (``index``/``table``), ``name``, optional ``schema`` and ``concurrently``.
- ``pg_create_index_concurrently`` (high risk): ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``
  named ``index`` (default ``<table>_<columns>_idx``) on ``table`` (``columns``, optional
  ``schema``). A failure can leave an INVALID index behind; the detail says so.

Identifiers are quoted with :mod:`psycopg.sql`, values are bound parameters: nothing from a
request is formatted into SQL text. Every statement has a server-side ``statement_timeout``
and a client-side deadline.

>>> build_reindex({"kind": "index", "name": 'odd"name', "schema": "app"}).as_string()
'REINDEX INDEX "app"."odd""name"'
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

from selfheal_ml.actions.base import ExecutionResult, RepairRequest
from selfheal_ml.actions.operations import OperationsExecutor
from selfheal_ml.performance.index_names import index_name

_TERMINATE = """
SELECT pid, pg_terminate_backend(pid) AS terminated
FROM pg_stat_activity
WHERE backend_type = 'client backend'
  AND pid <> pg_backend_pid()
  AND datname = current_database()
  AND {condition} < now() - make_interval(secs => %(older_than_s)s)
  AND (%(application_name)s::text IS NULL OR application_name = %(application_name)s::text)
"""
TERMINATE_IDLE = _TERMINATE.format(
    condition="state IN ('idle', 'idle in transaction', 'idle in transaction (aborted)')"
    " AND state_change"
)
TERMINATE_STUCK = _TERMINATE.format(condition="state = 'active' AND query_start")

_REINDEX_KINDS = {"index": sql.SQL("INDEX"), "table": sql.SQL("TABLE")}


def _name(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"params.{key}: expected a non-empty name, got {value!r}")
    return value


def _qualified(params: Mapping[str, Any], key: str) -> sql.Identifier:
    schema = params.get("schema")
    if schema is None:
        return sql.Identifier(_name(params, key))
    return sql.Identifier(_name(params, "schema"), _name(params, key))


def build_reindex(params: Mapping[str, Any]) -> sql.Composed:
    """The ``REINDEX`` statement for ``params`` (see module doc)."""
    kind = _REINDEX_KINDS.get(str(params.get("kind", "index")))
    if kind is None:
        raise ValueError(f"params.kind: expected 'index' or 'table', got {params.get('kind')!r}")
    concurrently = sql.SQL(" CONCURRENTLY") if params.get("concurrently") else sql.SQL("")
    return sql.SQL("REINDEX {}{} {}").format(kind, concurrently, _qualified(params, "name"))


def build_create_index(params: Mapping[str, Any]) -> tuple[sql.Composed, str]:
    """``CREATE INDEX CONCURRENTLY`` for ``params`` and the index name.

    >>> statement, name = build_create_index({"table": "orders", "columns": ["customer_id"]})
    >>> statement.as_string(), name
    ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders_customer_id_idx" ON "orders" ("customer_id")', 'orders_customer_id_idx')
    """  # noqa: E501
    columns = params.get("columns")
    if isinstance(columns, str) or not columns or not all(isinstance(c, str) for c in columns):
        raise ValueError(f"params.columns: expected a list of column names, got {columns!r}")
    table = _name(params, "table")
    index = params.get("index") or index_name(table, columns, str(params.get("schema") or ""))
    statement = sql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})").format(
        sql.Identifier(_name({"index": index}, "index")),
        _qualified(params, "table"),
        sql.SQL(", ").join(sql.Identifier(column) for column in columns),
    )
    return statement, str(index)


class PostgresExecutor(OperationsExecutor):
    """Runs the PostgreSQL actions above against ``dsn`` (see module doc)."""

    expected_errors = (psycopg.Error, OSError)

    def __init__(
        self,
        name: str,
        dsn: str,
        *,
        timeout_s: float = 30.0,
        index_timeout_s: float = 600.0,
        application_name: str = "selfheal-ml-repair",
    ) -> None:
        self.dsn = dsn
        self.timeout_s = timeout_s
        self.index_timeout_s = index_timeout_s
        self.application_name = application_name
        operations = {
            "pg_terminate_idle": self._terminate_idle,
            "pg_terminate_stuck": self._terminate_stuck,
            "pg_reindex": self._reindex,
            "pg_create_index_concurrently": self._create_index,
        }
        # statements carry their own timeouts (an index build may take index_timeout_s)
        super().__init__(name, operations, timeout_s=None)

    async def _terminate_idle(self, request: RepairRequest) -> ExecutionResult:
        return await self._terminate(request, TERMINATE_IDLE, "idle")

    async def _terminate_stuck(self, request: RepairRequest) -> ExecutionResult:
        return await self._terminate(request, TERMINATE_STUCK, "stuck")

    async def _terminate(self, request: RepairRequest, query: str, what: str) -> ExecutionResult:
        older_than_s = float(request.params.get("older_than_s", 300.0))
        if not math.isfinite(older_than_s) or older_than_s < 0:
            raise ValueError(f"params.older_than_s: expected >= 0, got {older_than_s!r}")
        application = request.params.get("application_name")
        arguments = {"older_than_s": older_than_s, "application_name": application}
        rows = await self._fetch(query, arguments, self.timeout_s)
        pids = [int(row[0]) for row in rows if row[1]]
        return ExecutionResult(
            ok=True,
            detail=f"terminated {len(pids)} {what} session(s) older than {older_than_s:g} s",
            data={"terminated_pids": pids},
        )

    async def _reindex(self, request: RepairRequest) -> ExecutionResult:
        statement = build_reindex(request.params)
        await self._fetch(statement, None, self.index_timeout_s)
        return ExecutionResult(ok=True, detail=f"ran {statement.as_string()}")

    async def _create_index(self, request: RepairRequest) -> ExecutionResult:
        statement, index = build_create_index(request.params)
        try:
            await self._fetch(statement, None, self.index_timeout_s)
        except psycopg.Error as error:
            raise psycopg.Error(
                f"{error}; an INVALID index {index} may remain: drop it before retrying"
            ) from error
        return ExecutionResult(
            ok=True, detail=f"ran {statement.as_string()}", data={"index": index}
        )

    async def _fetch(
        self, query: str | sql.Composed, arguments: dict[str, Any] | None, timeout_s: float
    ) -> list[tuple[Any, ...]]:
        """Run one statement on a fresh autocommit connection; rows if it returned any."""
        async with asyncio.timeout(timeout_s + 5.0):
            connection = await psycopg.AsyncConnection.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(2, math.ceil(min(timeout_s, 10.0))),
                application_name=self.application_name,
                options=f"-c statement_timeout={int(timeout_s * 1000)}",
            )
            async with connection:
                cursor = await connection.execute(query, arguments)
                return list(await cursor.fetchall()) if cursor.description else []
