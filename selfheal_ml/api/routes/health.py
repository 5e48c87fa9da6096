"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers (on the event loop, never queued behind a thread)."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    """Readiness: runtime started, database answers, no enabled agent has failed."""
    runtime = request.app.state.runtime
    problems: list[str] = []
    if runtime is None:
        problems.append("runtime not started")
    else:
        try:
            with runtime.database.read() as conn:
                conn.execute("SELECT 1").fetchone()
        except Exception as exc:  # readiness reports any failure
            problems.append(f"database: {exc}")
        for name, status in runtime.agent_statuses().items():
            if status.failed:
                problems.append(f"agent {name} failed: {status.last_error}")
    body = {"status": "ready" if not problems else "not ready", "problems": problems}
    return JSONResponse(status_code=200 if not problems else 503, content=body)
