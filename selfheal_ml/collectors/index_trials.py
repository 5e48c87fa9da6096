"""The planner's word on a candidate index, without creating it (Dexter's method).

For a query whose filter no index serves, :func:`try_index` asks the planner twice:

1. **Generic plan**: the query (its constants as ``$n`` parameters) is ``PREPARE``\\ d and
   explained with ``plan_cache_mode = force_generic_plan``, ``EXECUTE``\\ d with ``NULL``
   parameters: the plan does not depend on the values, so texts from ``pg_stat_statements``
   (``$1``) can be planned on PostgreSQL 15, which has no ``EXPLAIN (GENERIC_PLAN)``. The
   sequential scan's estimated rows over the table's rows is the filter's selectivity.
2. **What-if** (only when the HypoPG extension is installed in the database): a hypothetical
   index on the candidate's columns (``hypopg_create_index``: private to this session, nothing
   written, the table opened with ``ACCESS SHARE`` like any plan) and the plan again; its cost
   against the first plan's.

Nothing runs the query (no ``ANALYZE``); prepared statements and hypothetical indexes are
dropped before returning. A query the server cannot prepare gives ``None``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from selfheal_ml.collectors.postgres_statistics import MARKER, StatisticsReader
from selfheal_ml.performance import IndexTrial

log = logging.getLogger("selfheal_ml.collectors.index_trials")

_PARAMETER = re.compile(r"\$(\d+)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
STATEMENT_NAME = "selfheal_ml_trial"


def quote_identifier(name: str) -> str:
    """``name`` as a SQL identifier: bare when it is a plain lower-case name, else quoted.

    >>> quote_identifier("orders"), quote_identifier("Order Lines")
    ('orders', '"Order Lines"')
    """
    if _IDENTIFIER.match(name) and name == name.lower():
        return name
    return '"' + name.replace('"', '""') + '"'


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans") or []:
        yield from _nodes(child)


def scan_rows(plan: Any, schema: str, table: str) -> float | None:
    """Estimated rows of the plan's sequential scan of ``schema.table`` (largest if several).

    >>> plan = [{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan",
    ...          "Relation Name": "orders", "Schema": "public", "Plan Rows": 12}]}}]
    >>> scan_rows(plan, "public", "orders")
    12.0
    """
    top = plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"]
    rows = [
        float(node.get("Plan Rows", 0))
        for node in _nodes(top)
        if node.get("Node Type") == "Seq Scan"
        and node.get("Relation Name") == table
        and node.get("Schema", schema) == schema
    ]
    return max(rows) if rows else None


def _total_cost(plan: Any) -> float:
    top = plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"]
    return float(top["Total Cost"])


async def _generic_plan(reader: StatisticsReader, query: str) -> Any:
    parameters = max((int(number) for number in _PARAMETER.findall(query)), default=0)
    await reader.fetch(f"{MARKER} PREPARE {STATEMENT_NAME} AS {query}")
    try:
        arguments = f"({', '.join(['NULL'] * parameters)})" if parameters else ""
        rows = await reader.fetch(
            f"{MARKER} EXPLAIN (FORMAT JSON) EXECUTE {STATEMENT_NAME}{arguments}"
        )
    finally:
        await reader.fetch(f"{MARKER} DEALLOCATE {STATEMENT_NAME}")
    plan = rows[0][0]
    return json.loads(plan) if isinstance(plan, str) else plan


async def try_index(
    reader: StatisticsReader,
    query: str,
    schema: str,
    table: str,
    columns: tuple[str, ...],
    fingerprint: str,
    live_rows: float,
    hypopg: bool,
) -> IndexTrial | None:
    """The candidate's :class:`IndexTrial`, or ``None`` when the planner cannot plan the query
    or its plan does not scan ``table`` sequentially. Needs ``plan_cache_mode =
    force_generic_plan`` on the session (see the analyser's connection options)."""
    try:
        before = await _generic_plan(reader, query)
        rows = scan_rows(before, schema, table)
        if rows is None or live_rows <= 0:
            return None
        cost_after = None
        if hypopg:
            qualified = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            definition = (
                f"CREATE INDEX ON {qualified} ({', '.join(map(quote_identifier, columns))})"
            )
            await reader.fetch(f"{MARKER} SELECT * FROM hypopg_create_index(%s)", (definition,))
            try:
                cost_after = _total_cost(await _generic_plan(reader, query))
            finally:
                await reader.fetch(f"{MARKER} SELECT hypopg_reset()")
    except psycopg.Error as error:
        log.info("cannot plan %.80s: %s", query, str(error).strip().splitlines()[0])
        return None
    return IndexTrial(
        fingerprint=fingerprint,
        schema=schema,
        table=table,
        columns=columns,
        selectivity=min(1.0, rows / live_rows),
        cost_before=_total_cost(before),
        cost_after=cost_after,
    )
