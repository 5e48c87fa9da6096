"""Admin routes: the system dashboard (JSON), the dashboard page and the page's own files.

The page is static: ``dashboard.html`` with its ``dashboard.css`` / ``dashboard.js`` and the
vendored chart library under ``static/vendor/`` (served from the package, never a CDN), so the
page works on a machine without internet access. Only files shipped in the package are
served, by an allow-list of suffixes; anything else is a 404.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import HTMLResponse

from selfheal_ml.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/admin", tags=["admin"])

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def _static_root() -> Traversable:
    return resources.files("selfheal_ml.api") / "static"


@router.get("/system/dashboard")
def system_dashboard(runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    """The seed's dashboard shape, every value read live from the runtime."""
    return runtime.dashboard()


@router.get("", response_class=HTMLResponse, include_in_schema=False)
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page() -> str:
    """The admin page: static HTML that fetches the JSON routes with the user's token."""
    return (_static_root() / "dashboard.html").read_text("utf-8")


@router.get("/static/{path:path}", include_in_schema=False)
def dashboard_file(path: str) -> Response:
    """A script, style sheet or image of the page (``static/`` in the package)."""
    parts = path.split("/")
    suffix = "." + parts[-1].rsplit(".", 1)[-1] if "." in parts[-1] else ""
    if suffix not in MEDIA_TYPES or any(part in ("", ".", "..") for part in parts):
        raise HTTPException(status_code=404, detail={"error": f"path.path: no file {path!r}"})
    found = _static_root().joinpath(*parts)
    if not found.is_file():
        raise HTTPException(status_code=404, detail={"error": f"path.path: no file {path!r}"})
    return Response(
        found.read_bytes(),
        media_type=MEDIA_TYPES[suffix],
        headers={"Cache-Control": "no-cache"},
    )
