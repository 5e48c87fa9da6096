"""Queries as libpg_query sees them: fingerprint, normalised text, trace id, filter columns.

``pglast`` wraps libpg_query, PostgreSQL's own parser: two queries that differ only in their
literals, parameter numbers, comments or whitespace have one :func:`fingerprint`, whatever
the regular expression we used before would have made of quoted strings, casts and comments.
Text that does not parse (``pg_stat_activity`` cuts queries at ``track_activity_query_size``)
falls back to a literal-stripping regex, so every query gets a fingerprint.

>>> fingerprint("SELECT * FROM t WHERE a = 42") == fingerprint("select * from t where a = $1")
True
>>> normalise("SELECT * FROM t WHERE a = 42 AND b = 'x' /* traceparent='00-ab-cd-01' */")
'SELECT * FROM t WHERE a = $1 AND b = $2'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pglast import ast, enums, parser

MAX_INDEX_COLUMNS = 3
_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_TRACEPARENT = re.compile(
    r"traceparent\s*=\s*'?(?:[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}", re.I
)
_COMMENT_TOKENS = frozenset({"C_COMMENT", "SQL_COMMENT"})
_RANGE_OPERATORS = frozenset({"<", "<=", ">", ">="})
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


def _fallback_text(query: str) -> str:
    return " ".join(_LITERAL.sub("?", query).split())


def fingerprint(query: str) -> str:
    """libpg_query's fingerprint of ``query`` (16 hex digits); for text that does not parse,
    a hash of the text with its literals stripped."""
    try:
        return str(parser.fingerprint(query))
    except parser.ParseError:
        return hashlib.sha1(_fallback_text(query).encode()).hexdigest()[:16]


def _without_comments(query: str) -> str:
    try:
        tokens = parser.scan(query)
    except parser.ParseError:
        return query
    kept, position = [], 0
    for token in tokens:
        if token.name in _COMMENT_TOKENS:
            kept.append(query[position : token.start])
            position = token.end + 1
    kept.append(query[position:])
    return "".join(kept)


def normalise(query: str) -> str:
    """``query`` with its constants as ``$n``, its comments dropped, its whitespace collapsed."""
    try:
        text = str(parser.normalize(query))
    except parser.ParseError:
        return _fallback_text(_without_comments(query))
    return " ".join(_without_comments(text).split()).rstrip(";").strip()


def trace_id(query: str) -> str | None:
    """The W3C trace id of a sqlcommenter ``traceparent`` comment in ``query``, if any.

    >>> comment = "/*traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/"
    >>> trace_id("SELECT 1 " + comment)
    '4bf92f3577b34da6a3ce929d0e0e4736'
    >>> trace_id("SELECT 1") is None
    True
    """
    match = _TRACEPARENT.search(query)
    return match.group("trace").lower() if match else None


@dataclass(frozen=True)
class FilterColumns:
    """The columns of one table a query's ``WHERE`` compares with constants or parameters."""

    table: str
    schema: str | None
    equality: tuple[str, ...]
    ranges: tuple[str, ...]

    @property
    def index_columns(self) -> tuple[str, ...]:
        """The columns an index should have: equality first, then one range column."""
        return (self.equality + self.ranges[:1])[:MAX_INDEX_COLUMNS]


def _relations(from_clause: Sequence[Any] | None) -> Iterator[ast.RangeVar]:
    for item in from_clause or ():
        if isinstance(item, ast.RangeVar):
            yield item
        elif isinstance(item, ast.JoinExpr):
            yield from _relations([item.larg, item.rarg])


def _conjuncts(node: Any) -> Iterator[Any]:
    if isinstance(node, ast.BoolExpr):
        if node.boolop == enums.BoolExprType.AND_EXPR:
            for argument in node.args or ():
                yield from _conjuncts(argument)
        return  # OR / NOT: no single index serves it
    if node is not None:
        yield node


def _column(node: Any) -> tuple[str | None, str] | None:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.ColumnRef):
        return None
    names = [getattr(field, "sval", None) for field in node.fields or ()]
    if not names or any(name is None for name in names):
        return None  # ``t.*``
    return (names[-2] if len(names) >= 2 else None), str(names[-1])


def _constant(node: Any) -> bool:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, (ast.A_Const, ast.ParamRef)):
        return True
    if isinstance(node, (list, tuple)):
        return all(_constant(item) for item in node)
    return isinstance(node, ast.A_ArrayExpr) and _constant(node.elements or ())


def _comparison(node: Any) -> tuple[tuple[str | None, str], str] | None:
    """``((qualifier, column), operator)`` of a column-versus-constant term, else ``None``."""
    if not isinstance(node, ast.A_Expr) or not node.name:
        return None
    operator = getattr(node.name[-1], "sval", "")
    kind = node.kind
    if kind in (enums.A_Expr_Kind.AEXPR_IN, enums.A_Expr_Kind.AEXPR_OP_ANY) and operator == "=":
        column = _column(node.lexpr)
        return (column, "=") if column and _constant(node.rexpr) else None
    if kind == enums.A_Expr_Kind.AEXPR_BETWEEN:
        column = _column(node.lexpr)
        return (column, ">=") if column and _constant(node.rexpr) else None
    if kind != enums.A_Expr_Kind.AEXPR_OP or operator not in _FLIPPED:
        return None
    left, right = _column(node.lexpr), _column(node.rexpr)
    if left and _constant(node.rexpr):
        return left, operator
    if right and _constant(node.lexpr):
        return right, _FLIPPED[operator]
    return None


def filter_columns(query: str) -> list[FilterColumns]:
    """Per table of a single ``SELECT``/``UPDATE``/``DELETE``, the columns its ``WHERE``
    compares with a constant or a parameter (``=``, ``IN``, ``= ANY``, ranges), joined by
    ``AND``. Unqualified columns count only when one table is in ``FROM``.

    >>> [(f.table, f.index_columns) for f in filter_columns(
    ...     "SELECT * FROM orders o WHERE o.total > 5 AND o.customer_id = $1")]
    [('orders', ('customer_id', 'total'))]
    >>> filter_columns("SELECT * FROM t WHERE a = 1 OR b = 2")
    []
    """
    try:
        statements = parser.parse_sql(query)
    except parser.ParseError:
        return []
    if len(statements) != 1:
        return []
    statement = statements[0].stmt
    if isinstance(statement, ast.SelectStmt):
        relations = list(_relations(statement.fromClause))
    elif isinstance(statement, (ast.UpdateStmt, ast.DeleteStmt)):
        relations = [statement.relation] if statement.relation is not None else []
    else:
        return []
    by_name = {(rel.alias.aliasname if rel.alias else rel.relname): rel for rel in relations}
    found: dict[str, tuple[ast.RangeVar, list[str], list[str]]] = {}
    for term in _conjuncts(statement.whereClause):
        compared = _comparison(term)
        if compared is None:
            continue
        (qualifier, column), operator = compared
        if qualifier is None:
            relation = relations[0] if len(relations) == 1 else None
        else:
            relation = by_name.get(qualifier)
        if relation is None:
            continue
        _, equality, ranges = found.setdefault(str(relation.relname), (relation, [], []))
        chosen = ranges if operator in _RANGE_OPERATORS else equality
        if column not in equality and column not in ranges:
            chosen.append(column)
    return [
        FilterColumns(name, relation.schemaname or None, tuple(equality), tuple(ranges))
        for name, (relation, equality, ranges) in found.items()
    ]
