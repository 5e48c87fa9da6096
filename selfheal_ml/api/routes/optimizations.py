"""The Performance agent's current findings: ``GET /v1/optimizations``.

Served from the board the agent replaces after each round (no database query per request);
each item is a finding's record (``kind``, ``table``, ``columns``, ``index``, ``fingerprint``,
``query``, ``mean_ms``, ``calls``, ``evidence``, ``recommendation``) with its ``target``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from selfheal_ml.api.deps import RuntimeDep

router = APIRouter(tags=["optimizations"])


@router.get("/v1/optimizations")
def current_optimizations(
    runtime: RuntimeDep, kind: str | None = Query(default=None, max_length=40)
) -> dict[str, Any]:
    """Current findings of every watched target (only ``kind`` when given)."""
    items = [
        {"target": target, **finding.as_record()}
        for target, finding in runtime.optimizations.current()
        if kind is None or finding.kind == kind
    ]
    return {"items": items, "count": len(items)}
