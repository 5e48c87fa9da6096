"""Admin routes: the system dashboard (JSON) and the dashboard page that renders it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from selfheal_ml import __version__
from selfheal_ml.api.deps import AdminDep, RuntimeDep
from selfheal_ml.runtime import Runtime

router = APIRouter(prefix="/admin", tags=["admin"])


def system_status(runtime: Runtime) -> str:
    """``running``, ``degraded`` (an enabled agent failed) or ``api-only`` (self-healing off)."""
    if not runtime.settings.enable_self_healing:
        return "api-only"
    if any(status.failed for status in runtime.agent_statuses().values()):
        return "degraded"
    return "running"


def dashboard(runtime: Runtime) -> dict[str, Any]:
    """The seed's dashboard shape, every value read live from the runtime."""
    counts = runtime.alerts.counts()
    repairs = runtime.repairs.summary()
    return {
        "system": {
            "status": system_status(runtime),
            "uptime": round(runtime.uptime_s(), 3),
            "version": __version__,
        },
        "agents": {
            name: {"running": status.running, "enabled": status.enabled}
            for name, status in runtime.agent_statuses().items()
        },
        "health": {
            "overall": runtime.health.overall(),
            "platforms": dict(runtime.health.platforms),
        },
        "alerts": {
            "active": counts.active,
            "total": counts.total,
            "autoResolved": counts.auto_resolved,
        },
        "repairs": {
            "total": repairs.total,
            "successRate": repairs.success_rate,
            "active": repairs.active,
        },
    }


@router.get("/system/dashboard")
def system_dashboard(runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return dashboard(runtime)


@router.get("", response_class=HTMLResponse, include_in_schema=False)
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page() -> str:
    """The admin page: static HTML that fetches the JSON routes with the user's token."""
    return (resources.files("selfheal_ml.api") / "static" / "dashboard.html").read_text("utf-8")
