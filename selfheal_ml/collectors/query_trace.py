"""Query tracing: from "the database has slow queries" to "this table lacks that index".

:class:`PostgresIndexInvestigator` is the ``add_index`` investigator of the Diagnostic agent
(see :mod:`selfheal_ml.diagnosis.investigation`). It needs no extension (no
``pg_stat_statements``), only what every PostgreSQL server has:

1. **Sample** ``pg_stat_activity`` ``samples`` times, ``interval_s`` apart: the active queries
   of client sessions in the current database (its own session and selfheal-ml's sessions
   excluded). Queries that differ only in their literals are one query (:func:`fingerprint`);
   the one seen running in most samples, then the longest-running, comes first.
2. **Explain** it: ``EXPLAIN (FORMAT JSON, VERBOSE)`` without ``ANALYZE`` (the query is planned,
   never run), under a ``statement_timeout``, and only for a single ``SELECT`` statement
   (:func:`explainable`). Only *literal* queries can be explained: a query sent with
   server-side parameters (``$1``, psycopg 3's default) shows its placeholders in
   ``pg_stat_activity``, and PostgreSQL 15 cannot plan it without their values, so it is
   skipped. Applications that send literal SQL (psycopg's ``ClientCursor``, many ORMs) can be
   traced.
3. **Walk the plan** (:func:`index_candidates`) for ``Seq Scan`` nodes whose ``Filter`` is a
   conjunction of simple comparisons of a column with a constant (``=``, ``<``, ``<=``, ``>``,
   ``>=``, ``= ANY``), on a relation of at least ``min_rows`` estimated rows
   (``pg_class.reltuples``) whose indexes do not already lead with the column. The index it
   proposes has the equality columns first, then one range column (at most
   :data:`MAX_INDEX_COLUMNS`). An ``OR``, a function of a column or a comparison with another
   column is no simple filter: nothing is proposed for it.

The result is the investigation's finding (a sentence and the ``pg_create_index_concurrently``
parameters ``table``, ``columns``, ``schema``), built by the ``finding`` callable it is given:
the collectors layer cannot import the diagnosis layer, so the composition root
(:mod:`selfheal_ml.ports`) passes :class:`selfheal_ml.diagnosis.investigation.Finding`.

Nothing qualifies, the server refuses the connection, ``EXPLAIN`` fails, a timeout: the answer
is ``None`` and a log line, never an exception.

>>> plan = [{"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public",
...                   "Alias": "orders", "Filter": "(orders.customer_id = 42)"}}]
>>> [(c.table, c.columns) for c in index_candidates(plan, {("public", "orders"): 1e6}, 1000)]
[('orders', ('customer_id',))]
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import psycopg

from selfheal_ml.performance.normalise import fingerprint as query_fingerprint

log = logging.getLogger("selfheal_ml.collectors.query_trace")

FindingT = TypeVar("FindingT")
#: Builds the finding from its sentence and the executor parameters.
FindingFactory = Callable[[str, Mapping[str, Any]], FindingT]

MAX_INDEX_COLUMNS = 3
#: How many of the top sampled queries are explained before giving up.
MAX_EXPLAINED = 3
SUMMARY_QUERY_CHARS = 160

SAMPLE_QUERY = """
SELECT query, EXTRACT(EPOCH FROM clock_timestamp() - query_start) * 1000.0 AS running_ms
FROM pg_stat_activity
WHERE backend_type = 'client backend'
  AND pid <> pg_backend_pid()
  AND datname = current_database()
  AND state = 'active'
  AND query_start IS NOT NULL
  AND coalesce(application_name, '') NOT LIKE 'selfheal-ml%'
"""

RELATION_QUERY = """
SELECT c.reltuples,
       ARRAY(
           SELECT a.attname::text
           FROM pg_index AS i
           JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = c.oid AND i.indisvalid
       ) AS leading_columns
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s
"""

_IDENTIFIER = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CAST = r"(?:::[A-Za-z_][A-Za-z0-9_ ]*(?:\(\d+(?:,\d+)?\))?(?:\[\])?)"
_COLUMN = rf"\(?(?:(?P<qualifier>{_IDENTIFIER})\.)?(?P<column>{_IDENTIFIER})\)?{_CAST}?"
_CONSTANT = rf"(?:'(?:[^']|'')*'{_CAST}?|-?\d+(?:\.\d+)?{_CAST}?|NULL|true|false)"
_COMPARISON = re.compile(
    rf"^{_COLUMN}\s*(?P<operator>=|<=|>=|<|>)\s*(?:ANY\s*\(\s*{_CONSTANT}\s*\)|{_CONSTANT})$"
)
_PLACEHOLDER = re.compile(r"\$\d+")


@dataclass(frozen=True)
class IndexCandidate:
    """A sequential scan an index would serve: where, on which columns, how big."""

    schema: str | None
    table: str
    columns: tuple[str, ...]
    rows: float

    @property
    def qualified(self) -> str:
        """``table``, or ``schema.table`` outside the ``public`` schema."""
        if self.schema in (None, "public"):
            return self.table
        return f"{self.schema}.{self.table}"

    def params(self) -> dict[str, Any]:
        """The ``pg_create_index_concurrently`` parameters."""
        return {"table": self.table, "columns": list(self.columns), "schema": self.schema}


@dataclass(frozen=True)
class SampledQuery:
    """One query (by fingerprint) as the samples saw it: a concrete text, how often, how long."""

    text: str
    seen: int
    longest_ms: float


def fingerprint(query: str) -> str:
    """libpg_query's fingerprint of the query (:func:`selfheal_ml.performance.fingerprint`):
    the same for queries that differ only in literals, comments or whitespace.

    >>> fingerprint("SELECT * FROM t WHERE a = 42 AND  b = 'x'") == fingerprint(
    ...     "select * from t where a = 7 and b = 'y' /* traceparent='00-ab-cd-01' */")
    True
    """
    return query_fingerprint(query)


def explainable(query: str) -> bool:
    """Whether ``query`` may be explained: one ``SELECT`` statement without placeholders.

    >>> explainable("SELECT 1;"), explainable("SELECT $1"), explainable("DELETE FROM t")
    (True, False, False)
    >>> explainable("SELECT 1; DROP TABLE t")
    False
    """
    text = query.strip().rstrip(";").strip()
    if not re.match(r"(?is)^select\b", text) or ";" in text:
        return False
    return _PLACEHOLDER.search(text) is None


def rank_samples(samples: Sequence[Sequence[tuple[str, float]]]) -> list[SampledQuery]:
    """Queries by fingerprint, seen in most samples first, then longest running.

    Each sample is the ``(query, running_ms)`` pairs of one look at ``pg_stat_activity``; the
    text kept for a fingerprint is its longest-running instance.

    >>> first = [("SELECT * FROM a WHERE x = 1", 90.0), ("SELECT * FROM b", 300.0)]
    >>> second = [("SELECT * FROM a WHERE x = 2", 120.0)]
    >>> [(q.text, q.seen, q.longest_ms) for q in rank_samples([first, second])]
    [('SELECT * FROM a WHERE x = 2', 2, 120.0), ('SELECT * FROM b', 1, 300.0)]
    """
    seen: dict[str, int] = {}
    longest: dict[str, tuple[float, str]] = {}
    for sample in samples:
        for key in {fingerprint(query) for query, _ in sample}:
            seen[key] = seen.get(key, 0) + 1
        for query, running_ms in sample:
            key = fingerprint(query)
            if key not in longest or running_ms > longest[key][0]:
                longest[key] = (running_ms, query)
    ranked = [
        SampledQuery(text=longest[key][1], seen=count, longest_ms=longest[key][0])
        for key, count in seen.items()
    ]
    return sorted(ranked, key=lambda item: (-item.seen, -item.longest_ms, item.text))


def _unquote(identifier: str) -> str:
    if identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _split_conjunction(expression: str) -> list[str] | None:
    """The top-level ``AND`` terms of a filter, each without its outer parentheses;
    ``None`` when it is not a plain conjunction (a top-level ``OR``, unbalanced text)."""
    text = _strip_parentheses(expression.strip())
    terms: list[str] = []
    depth, start, index, quoted = 0, 0, 0, False
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif not quoted and depth == 0 and text.startswith(" AND ", index):
            terms.append(text[start:index])
            start = index = index + len(" AND ")
            continue
        elif not quoted and depth == 0 and text.startswith(" OR ", index):
            return None
        index += 1
    if depth != 0 or quoted:
        return None
    terms.append(text[start:])
    return [_strip_parentheses(term.strip()) for term in terms]


def _strip_parentheses(text: str) -> str:
    """``text`` without parentheses that enclose all of it."""
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _closes_at_end(text: str) -> bool:
    depth, quoted = 0, False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0 and index < len(text) - 1:
                return False
    return depth == 0


def filter_columns(expression: str, alias: str | None = None) -> tuple[str, ...]:
    """The columns an index should have for a scan ``Filter``: equality columns in filter
    order, then the first range column; ``()`` when the filter is not simple.

    >>> filter_columns("((o.total > '5'::numeric) AND (o.customer_id = 42))", alias="o")
    ('customer_id', 'total')
    >>> filter_columns("((status)::text = 'open'::text)")
    ('status',)
    >>> filter_columns("((a = 1) OR (b = 2))"), filter_columns("(lower(email) = 'x'::text)")
    ((), ())
    """
    terms = _split_conjunction(expression)
    if not terms:
        return ()
    equality: list[str] = []
    ranges: list[str] = []
    for term in terms:
        match = _COMPARISON.match(term)
        if match is None:
            continue  # not simple; the other terms may still be served by an index
        qualifier = match.group("qualifier")
        if qualifier is not None and alias is not None and _unquote(qualifier) != alias:
            continue  # another relation's column (an outer reference)
        column = _unquote(match.group("column"))
        chosen = equality if match.group("operator") == "=" else ranges
        if column not in equality and column not in ranges:
            chosen.append(column)
    return tuple((equality + ranges[:1])[:MAX_INDEX_COLUMNS])


def _plan_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans") or []:
        if isinstance(child, Mapping):
            yield from _plan_nodes(child)


def sequential_scans(plan: Any) -> list[tuple[str | None, str, str, str]]:
    """``(schema, table, alias, filter)`` of every filtered ``Seq Scan`` of an ``EXPLAIN
    (FORMAT JSON)`` result (parallel scans included)."""
    roots = plan if isinstance(plan, list) else [plan]
    scans: list[tuple[str | None, str, str, str]] = []
    for root in roots:
        top = root.get("Plan") if isinstance(root, Mapping) else None
        if not isinstance(top, Mapping):
            continue
        for node in _plan_nodes(top):
            table, condition = node.get("Relation Name"), node.get("Filter")
            if node.get("Node Type") != "Seq Scan" or not table or not condition:
                continue
            schema = node.get("Schema")
            alias = node.get("Alias") or table
            scans.append((str(schema) if schema else None, str(table), str(alias), str(condition)))
    return scans


def index_candidates(
    plan: Any,
    relation_rows: Mapping[tuple[str | None, str], float],
    min_rows: float,
    indexed: Mapping[tuple[str | None, str], Sequence[str]] | None = None,
) -> list[IndexCandidate]:
    """The sequential scans of ``plan`` an index would serve, biggest relation first.

    ``relation_rows`` maps ``(schema, table)`` to its estimated rows (a relation missing from it
    does not qualify); ``indexed`` to the leading columns of its existing indexes.
    """
    found: dict[tuple[str | None, str, tuple[str, ...]], IndexCandidate] = {}
    for schema, table, alias, condition in sequential_scans(plan):
        rows = relation_rows.get((schema, table))
        if rows is None or not rows >= min_rows:
            continue
        columns = filter_columns(condition, alias)
        if not columns or columns[0] in (indexed or {}).get((schema, table), ()):
            continue
        found[(schema, table, columns)] = IndexCandidate(schema, table, columns, rows)
    return sorted(found.values(), key=lambda item: (-item.rows, item.qualified, item.columns))


def describe(query: SampledQuery, candidate: IndexCandidate, samples: int) -> str:
    """The finding's sentence for a person."""
    text = " ".join(query.text.split())
    if len(text) > SUMMARY_QUERY_CHARS:
        text = text[: SUMMARY_QUERY_CHARS - 3] + "..."
    columns = ", ".join(candidate.columns)
    return (
        f'The query "{text}" (active in {query.seen}/{samples} samples, up to'
        f" {query.longest_ms:.0f} ms) scans {candidate.qualified} sequentially filtering on"
        f" {columns}; an index on {candidate.qualified}({columns}) would serve it."
    )


class PostgresIndexInvestigator(Generic[FindingT]):
    """Finds the index a slow query lacks on the PostgreSQL at ``dsn`` (see module doc).

    ``target`` (the configured target's name) keeps it out of incidents about other
    databases: when the observations name database components and this target is not one of
    them, it does not look.
    """

    strategy: ClassVar[str] = "add_index"

    def __init__(
        self,
        dsn: str,
        *,
        finding: FindingFactory[FindingT],
        target: str | None = None,
        samples: int = 5,
        interval_s: float = 0.2,
        min_rows: float = 10_000,
        timeout_s: float = 10.0,
        statement_timeout_ms: int = 2000,
        application_name: str = "selfheal-ml-investigator",
    ) -> None:
        if samples < 1:
            raise ValueError(f"samples: expected >= 1, got {samples!r}")
        for name, value in (("interval_s", interval_s), ("min_rows", min_rows)):
            if not 0 <= value < math.inf:
                raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
        if not 0 < timeout_s < math.inf or statement_timeout_ms < 1:
            raise ValueError("timeout_s and statement_timeout_ms: expected positive limits")
        self.dsn = dsn
        self.finding = finding
        self.target = target
        self.samples = samples
        self.interval_s = interval_s
        self.min_rows = min_rows
        self.timeout_s = timeout_s
        self.statement_timeout_ms = statement_timeout_ms
        self.application_name = application_name

    async def investigate(self, observations: Sequence[Any]) -> FindingT | None:
        """Sample, explain, walk the plan; ``None`` when nothing qualifies or anything fails."""
        if not self._concerns(observations):
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._investigate()
        except (psycopg.Error, OSError, TimeoutError, ValueError) as error:
            log.warning("index investigation on %s failed: %s", self.target or "postgres", error)
            return None

    def _concerns(self, observations: Sequence[Any]) -> bool:
        if self.target is None:
            return True
        databases = {
            getattr(item, "component", None)
            for item in observations
            if getattr(item, "kind", None) == "database"
        }
        return not databases or self.target in databases

    async def _investigate(self) -> FindingT | None:
        connection = await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(min(self.timeout_s, 10.0))),
            application_name=self.application_name,
            options=f"-c statement_timeout={self.statement_timeout_ms}",
        )
        async with connection:
            samples = await self._sample(connection)
            ranked = [query for query in rank_samples(samples) if explainable(query.text)]
            for query in ranked[:MAX_EXPLAINED]:
                candidate = await self._candidate(connection, query.text)
                if candidate is not None:
                    summary = describe(query, candidate, len(samples))
                    log.info("index investigation: %s", summary)
                    return self.finding(summary, candidate.params())
        log.info("index investigation: no sampled query scans a big table on a simple filter")
        return None

    async def _sample(
        self, connection: psycopg.AsyncConnection[Any]
    ) -> list[list[tuple[str, float]]]:
        samples: list[list[tuple[str, float]]] = []
        for index in range(self.samples):
            if index:
                await asyncio.sleep(self.interval_s)
            cursor = await connection.execute(SAMPLE_QUERY)
            rows = await cursor.fetchall()
            samples.append([(str(query), float(running_ms or 0.0)) for query, running_ms in rows])
        return samples

    async def _candidate(
        self, connection: psycopg.AsyncConnection[Any], query: str
    ) -> IndexCandidate | None:
        text = query.strip().rstrip(";")
        try:
            cursor = await connection.execute(f"EXPLAIN (FORMAT JSON, VERBOSE) {text}")
            row = await cursor.fetchone()
        except psycopg.Error as error:  # truncated text, dropped table, no permission...
            log.info("cannot explain %.80s: %s", text, str(error).strip().splitlines()[0])
            return None
        plan = row[0] if row is not None else None
        rows: dict[tuple[str | None, str], float] = {}
        indexed: dict[tuple[str | None, str], Sequence[str]] = {}
        for schema, table, _, _ in sequential_scans(plan):
            cursor = await connection.execute(
                RELATION_QUERY, {"schema": schema or "public", "table": table}
            )
            found = await cursor.fetchone()
            if found is not None and float(found[0]) >= 0:  # -1: never analysed, size unknown
                rows[(schema, table)] = float(found[0])
                indexed[(schema, table)] = list(found[1] or [])
        candidates = index_candidates(plan, rows, self.min_rows, indexed)
        return candidates[0] if candidates else None
