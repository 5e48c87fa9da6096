"""Admin routes: the system dashboard (JSON) and the dashboard page that renders it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from selfheal_ml.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/system/dashboard")
def system_dashboard(runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    """The seed's dashboard shape, every value read live from the runtime."""
    return runtime.dashboard()


@router.get("", response_class=HTMLResponse, include_in_schema=False)
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page() -> str:
    """The admin page: static HTML that fetches the JSON routes with the user's token."""
    return (resources.files("selfheal_ml.api") / "static" / "dashboard.html").read_text("utf-8")
