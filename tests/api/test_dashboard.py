"""The admin API over a real runtime: dashboard shape, auth, agent toggles, metrics, 4xx."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import AGENT_NAMES, load_settings
from selfheal_ml.errors import ConfigError

TOKEN = "test-token"  # the token tests/api/conftest.py sets
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_dashboard_has_the_seed_shape(client: TestClient) -> None:
    response = client.get("/admin/system/dashboard", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"system", "agents", "health", "alerts", "repairs"}
    assert {"status", "uptime", "version"} <= set(body["system"])
    assert isinstance(body["system"]["uptime"], int)  # milliseconds, as the seed's
    assert body["system"]["status"] == "running"
    assert set(body["agents"]) == set(AGENT_NAMES)
    for state in body["agents"].values():
        assert state == {"running": True, "enabled": True}
    assert set(body["health"]) == {"overall", "platforms"}
    assert body["health"]["overall"] == "unknown"  # no health check has run yet
    assert body["alerts"] == {"active": 0, "total": 0, "autoResolved": 0}
    assert body["repairs"] == {
        "total": 0,
        "successRate": None,
        "active": 0,
        "successRatio": None,
        "pendingApprovals": 0,
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_admin_needs_the_bearer_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/admin/system/dashboard", headers=headers)
    assert response.status_code == 401
    assert "Authorization" in response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_repair_disabled_shows_in_dashboard(
    db_path: Path, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("SELFHEAL_DB", str(db_path))
    monkeypatch.setenv("AGENT_REPAIR_ENABLED", "false")
    app = create_app(load_settings(), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as client:
        agents = client.get("/admin/system/dashboard", headers=AUTH).json()["agents"]
    assert agents["Repair"] == {"running": False, "enabled": False}
    assert agents["Monitor"] == {"running": True, "enabled": True}


def test_self_healing_off_runs_api_only(
    db_path: Path, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("SELFHEAL_DB", str(db_path))
    monkeypatch.setenv("ENABLE_SELF_HEALING", "false")
    app = create_app(load_settings(), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as client:
        body = client.get("/admin/system/dashboard", headers=AUTH).json()
    assert body["system"]["status"] == "api-only"
    assert not any(state["running"] for state in body["agents"].values())


def test_refuses_to_start_without_token_unless_dev(db_path: Path) -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="SELFHEAL_ADMIN_TOKEN"):
        create_app(settings)
    assert create_app(settings, dev=True) is not None


def test_prometheus_metrics(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'selfheal_agent_running{agent="Monitor"} 1.0' in response.text
    assert "selfheal_bus_published_total" in response.text


def test_dashboard_page_is_served_with_its_files(client: TestClient) -> None:
    page = client.get("/admin/")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="(/admin/static/[^"]+)"', page.text)
    assert "/admin/static/vendor/uplot/uPlot.iife.min.js" in sources
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, source
        assert response.headers["content-type"].startswith(("text/javascript", "text/css"))
    assert "/admin/system/dashboard" in client.get("/admin/static/dashboard.js").text


@pytest.mark.parametrize(
    "path", ["dashboard.html", "../routes/admin.py", "vendor/uplot/LICENSE", "nothing.js"]
)
def test_only_the_pages_own_files_are_served(client: TestClient, path: str) -> None:
    assert client.get(f"/admin/static/{path}").status_code == 404


def test_series_routes_return_values_and_scores(client: TestClient, sim_clock: SimClock) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    name = 'host_cpu_percent{host="a",platform="p"}'
    start = sim_clock.now()
    runtime.metrics.append_batch(
        pd.DataFrame(
            {
                "series": name,
                "ts": pd.date_range(start, periods=10, freq="min"),
                "value": np.arange(10.0),
            }
        )
    )
    sim_clock.advance(600)
    assert client.get("/v1/series", params={"prefix": "host_"}).json() == [name]
    body = client.get(f"/v1/series/{name}", params={"hours": 1}).json()
    assert body["value"] == list(np.arange(10.0))
    assert body["anomalies"] == []
    assert client.get(f"/v1/series/{name}", params={"hours": 0}).status_code == 422


def test_dashboard_script_escapes_what_it_shows(client: TestClient) -> None:
    script = client.get("/admin/static/dashboard.js").text
    for route in (
        "/admin/repairs/pending",
        "/v1/incidents?limit=10",
        "/v1/repairs/stats",
        "/v1/alerts?status=firing",
        "/v1/security/decisions",
        "/v1/optimizations",
    ):
        assert route in script, route
    # every interpolated piece of stored text goes through esc() (status only through cls()'s
    # map; numbers only through toFixed(); parameters() escapes each name and value itself)
    drawing = script[script.index("// ---- pending approvals") : script.index("// ---- the loop")]
    unescaped = re.findall(r"\$\{(?!esc\(|cls\(|parameters\(|escalations\()([^}]*)\}", drawing)
    for field in (
        "root_cause",
        "platforms",
        "resolved_by",
        "opened_at",
        "strategy",
        "kind",
        "action",
        "target",
        "incidentId",
        "summary",
        "ip",
        "reason",
    ):
        assert not [text for text in unescaped if field in text], field
