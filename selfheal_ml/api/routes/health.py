"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from selfheal_ml.api.readiness import OK, readiness_checks

router = APIRouter(tags=["health"])

READY_ANSWERS: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready; `checks` says which check failed and why",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers (on the event loop, never queued behind a thread)."""
    return {"status": "ok"}


@router.get("/ready", responses=READY_ANSWERS)
def ready(request: Request) -> JSONResponse:
    """Readiness: runtime started, the store accepts a write, enough free disk, no enabled
    agent failed. ``checks`` gives each one's verdict; ``problems`` lists the failures."""
    settings = request.app.state.settings
    checks = readiness_checks(
        request.app.state.runtime, settings.db_path, settings.limits.min_free_disk_bytes
    )
    problems = [f"{name}: {verdict}" for name, verdict in checks.items() if verdict != OK]
    body = {
        "status": "ready" if not problems else "not ready",
        "problems": problems,
        "checks": checks,
    }
    return JSONResponse(status_code=200 if not problems else 503, content=body)
