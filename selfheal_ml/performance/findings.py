"""What the Performance rules report: a finding, its evidence and what to do about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FindingKind = Literal[
    "slow_query",
    "missing_index",
    "unused_index",
    "duplicate_index",
    "n_plus_one",
    "cache_inefficiency",
    "pool_saturation",
    "long_transaction",
    "lock_wait",
    "cache_evictions",
    "memory_fragmentation",
    "slow_endpoint",
    "hot_endpoint",
    "memory_leak",
]

#: Kinds whose remedy changes the schema: never applied without the guard's approval.
SCHEMA_KINDS: frozenset[str] = frozenset({"missing_index", "unused_index", "duplicate_index"})


@dataclass(frozen=True)
class Finding:
    """One performance problem: where it is, the figures that show it, and the remedy.

    Fields that do not apply to a kind stay ``None`` (an unused index has no query, a slow
    query no index); ``endpoint`` names the HTTP endpoint (``platform endpoint``) of the
    endpoint kinds, or the series of a ``memory_leak``. ``evidence`` holds the measured
    figures the finding rests on, by name.

    >>> finding = Finding(kind="unused_index", table="orders", index="orders_note_idx",
    ...                   evidence={"scans": 0}, recommendation="DROP INDEX ...")
    >>> finding.as_record()["kind"], finding.as_record()["columns"]
    ('unused_index', None)
    """

    kind: FindingKind
    summary: str = ""
    table: str | None = None
    columns: tuple[str, ...] | None = None
    index: str | None = None
    fingerprint: str | None = None
    query: str | None = None
    mean_ms: float | None = None
    calls: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    recommendation: str | None = None
    endpoint: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None, str | None]:
        """What makes two findings the same problem: kind, table, index, fingerprint,
        endpoint."""
        return (self.kind, self.table, self.index, self.fingerprint, self.endpoint)

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``analyze postgres --json`` and API shape)."""
        return {
            "kind": self.kind,
            "summary": self.summary,
            "table": self.table,
            "columns": list(self.columns) if self.columns is not None else None,
            "index": self.index,
            "fingerprint": self.fingerprint,
            "query": self.query,
            "mean_ms": None if self.mean_ms is None else round(self.mean_ms, 3),
            "calls": self.calls,
            "evidence": dict(self.evidence),
            "recommendation": self.recommendation,
            "endpoint": self.endpoint,
        }
