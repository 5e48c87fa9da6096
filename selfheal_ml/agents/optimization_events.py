"""``OptimizationFound``: how the Performance agent announces one finding on the bus."""

from __future__ import annotations

from datetime import datetime

from selfheal_ml.events import OptimizationFound
from selfheal_ml.performance import Finding


def optimization_event(
    target: str, finding: Finding, now: datetime, correlation_id: str | None = None
) -> OptimizationFound:
    """The event announcing ``finding`` on ``target`` (in an incident's story when
    ``correlation_id`` is given)."""
    evidence = {
        name: value if isinstance(value, (int, float, str)) or value is None else str(value)
        for name, value in finding.evidence.items()
    }
    if finding.endpoint is not None:
        evidence["endpoint"] = finding.endpoint
    return OptimizationFound(
        ts=now,
        source="Performance",
        target=target,
        finding=finding.summary or finding.kind,
        suggestion=finding.recommendation or "",
        impact=f"mean {finding.mean_ms:.1f} ms over {finding.calls} calls"
        if finding.mean_ms is not None and finding.calls is not None
        else "",
        kind=finding.kind,
        table=finding.table,
        columns=finding.columns,
        index=finding.index,
        fingerprint=finding.fingerprint,
        query=finding.query,
        mean_ms=finding.mean_ms,
        calls=finding.calls,
        evidence=evidence,
        **({"correlation_id": correlation_id} if correlation_id else {}),
    )
