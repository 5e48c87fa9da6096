"""The admin page in a real browser: headless Chromium (the Debian package) driven by Playwright.

A real app over a real runtime listens on a free port in a thread; the tests seed it with a
fault (a firing alert, an open incident, a high-risk repair waiting for approval) and use the
page as an operator would. Screenshots go to ``test-artifacts/browser/`` (CI keeps them);
``SELFHEAL_SCREENSHOT_DIR=docs/screenshots`` writes the ones the README shows instead.
Skipped, with the reason, when Playwright or a Chromium binary is missing (``.ci/run``
installs both).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from selfheal_ml.actions import (
    GuardPolicy,
    RecordingExecutor,
    RepairRequest,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.api import create_app
from selfheal_ml.config import load_settings
from selfheal_ml.repair.incident import IncidentRecord
from selfheal_ml.runtime import Runtime
from selfheal_ml.storage.anomalies import AnomalyRecord, ScoredPoint
from selfheal_ml.storage.incidents import HistoryIncident

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

TOKEN = "browser-test-token"
CHROMIUM = os.environ.get("SELFHEAL_CHROMIUM") or next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt-get install chromium; .ci/run does)"
)
ARTEFACTS = Path(os.environ.get("SELFHEAL_SCREENSHOT_DIR", "test-artifacts/browser"))


@dataclass
class LiveService:
    """The app listening on ``url``, its runtime, and a way to run coroutines on its loop."""

    url: str
    runtime: Runtime
    loop: asyncio.AbstractEventLoop
    executor: RecordingExecutor

    def call(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveService]:
    """The API with admin token ``TOKEN`` and a repair service that records what it runs."""
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "selfheal.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    app = create_app(load_settings(), run_scheduler=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
    thread.start()
    for _ in range(600):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.05)
    assert server.started, "the test server did not start"
    runtime: Runtime = app.state.runtime
    executor = RecordingExecutor()
    guard = SafetyGuard(GuardPolicy(platform_count=5))
    runtime.repair_service = RepairService(
        guard, {"add_index": executor}, runtime.repairs, runtime.clock
    )
    try:
        yield LiveService(f"http://127.0.0.1:{port}", runtime, loop, executor)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()


def seed_fault(service: LiveService) -> str:
    """A missing index slows leadsite.ai: alerts fire, an incident is open, and the fix
    (``CREATE INDEX CONCURRENTLY``, high risk) waits for approval. Returns the approval id."""
    now = datetime.now(UTC)
    alerts = [
        {
            "labels": {
                "alertname": "HighResponseTime",
                "platform": "leadsite.ai",
                "endpoint": f"/api/orders/{number}",
                "severity": "warning",
            },
            "annotations": {"summary": "p95 response time 4.71 s > 2.00 s"},
            "startsAt": (now - timedelta(minutes=4)).isoformat(),
        }
        for number in range(14)
    ]
    alerts.append(
        {
            "labels": {"alertname": "DatabaseSlowQueries", "platform": "postgres"},
            "annotations": {"summary": "orders: sequential scans on customer_id"},
            "startsAt": (now - timedelta(minutes=3)).isoformat(),
        }
    )
    answer = httpx.post(
        f"{service.url}/api/v2/alerts",
        json=alerts,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code < 300, answer.text
    opened = now - timedelta(minutes=3)
    platforms = ("leadsite.ai",)
    service.runtime.incidents.append_history(
        [
            HistoryIncident(
                incident_id="inc-browser-1",
                started_at=now - timedelta(minutes=5),
                opened_at=opened,
                closed_at=None,
                platforms=platforms,
                severity="critical",
                status="repairing",
                root_cause="missing_index@postgres",
                record=IncidentRecord(opened_at=opened, platforms=platforms),
                signature="sig-browser-1",
            )
        ]
    )
    request = RepairRequest(
        "inc-browser-1",
        "corr-browser-1",
        "add_index",
        "postgres",
        platform="leadsite.ai",
        risk="high",
        params={"table": "orders", "column": "customer_id"},
    )
    seed_latency(service.runtime, now)
    attempt = service.call(lambda: service.runtime.repair_service.propose(request))
    assert attempt.decision == "pending_approval", attempt
    return str(attempt.approval_id or attempt.attempt_id)


LATENCY = 'probe_latency_ms{platform="leadsite.ai",url="/health"}'


def seed_latency(runtime: Runtime, now: datetime) -> None:
    """Six hours of a probe's latency, scored, that jumps in the last 20 minutes: the chart's
    value line, expected band and anomaly markers (and the series the page shows first)."""
    times = pd.date_range(end=now, periods=360, freq="min")
    rng = np.random.default_rng(7)
    values = 180 + 20 * rng.standard_normal(360)
    values[-20:] += 2400
    runtime.metrics.append_batch(pd.DataFrame({"series": LATENCY, "ts": times, "value": values}))
    scored = [
        ScoredPoint(LATENCY, ts.to_pydatetime(), value, score, score, score > 1, 130.0, 230.0)
        for index, (ts, value) in enumerate(zip(times, values, strict=True))
        for score in [8.0 if index >= 340 else 0.5]
    ]
    runtime.anomalies.append_scores(scored)
    ahead = pd.date_range(now + timedelta(hours=1), periods=6, freq="h")
    mean = np.full(6, 400.0)
    forecast = pd.DataFrame(
        {"step": range(1, 7), "ts": ahead, "mean": mean, "lo_80": mean - 150,
         "hi_80": mean + 150, "lo_95": mean - 250, "hi_95": mean + 250}
    )  # fmt: skip
    runtime.forecasts.save(LATENCY, now, "seeded", False, forecast)
    runtime.anomalies.record_anomalies(
        [
            AnomalyRecord(
                f"anomaly-{index}", LATENCY, point.ts, point.value, 8.0, 130.0, 230.0,
                "leadsite.ai", "corr-browser-1",
            )
            for index, point in enumerate(scored[-20:])
        ]
    )  # fmt: skip


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class OpenPage:
    page: Any
    problems: list[str]


def open_dashboard(browser: Any, service: LiveService, token: str | None = TOKEN) -> OpenPage:
    """The dashboard with ``token`` already entered (``None``: as a first visit)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    if token is not None:
        page.add_init_script(f"sessionStorage.setItem('selfheal-admin-token', {token!r})")
    page.goto(f"{service.url}/admin/")
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
    return OpenPage(page, problems)


def screenshot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"dashboard-{name}.png"), full_page=True)


def test_page_loads_without_console_errors(browser: Any, service: LiveService) -> None:
    opened = open_dashboard(browser, service)
    page = opened.page
    page.wait_for_selector("#chart .uplot, #chart:has-text('no series')", timeout=20_000)
    assert page.locator("#system").inner_text().startswith("running")
    assert page.locator("#approvals").inner_text().count("nothing waiting") == 1
    assert page.locator("#token-panel").is_hidden()
    screenshot(page, "idle")
    assert opened.problems == []


def test_page_shows_the_fault(browser: Any, service: LiveService) -> None:
    seed_fault(service)
    opened = open_dashboard(browser, service)
    page = opened.page
    page.wait_for_selector("#approvals button.approve", timeout=20_000)
    approvals = page.locator("#approvals").inner_text()
    for expected in ("add_index", "postgres", "table=orders", "column=customer_id", "inc-browser"):
        assert expected in approvals
    page.wait_for_selector("#alerts td:has-text('HighResponseTime')", timeout=20_000)
    grouped = page.locator("#alerts tr", has_text="HighResponseTime")
    assert grouped.count() == 1  # 14 alerts on one platform: one row that counts them
    assert "leadsite.ai" in grouped.inner_text() and "14" in grouped.inner_text()
    page.wait_for_selector("#chart .uplot", timeout=20_000)
    assert page.locator("#series").input_value() == LATENCY  # the most anomalous series now
    assert "most anomalous" in page.locator("#series-why").inner_text()
    incidents = page.locator("#incidents").inner_text()
    assert "missing_index@postgres" in incidents and "repairing" in incidents
    screenshot(page, "fault")
    assert opened.problems == []


def test_approving_from_the_page_executes_the_repair(browser: Any, service: LiveService) -> None:
    seed_fault(service)
    opened = open_dashboard(browser, service)
    page = opened.page
    page.click("#approvals button.approve")
    page.wait_for_selector("#approval-result:has-text('executed')", timeout=20_000)
    page.wait_for_selector("#approvals td:has-text('nothing waiting')", timeout=20_000)
    assert [(call.action, call.target) for call in service.executor.calls] == [
        ("add_index", "postgres")
    ]
    assert dict(service.executor.calls[0].params) == {"table": "orders", "column": "customer_id"}
    assert service.runtime.repair_service.pending() == []
    screenshot(page, "after-repair")
    assert opened.problems == []


def test_without_a_token_the_page_asks_for_it(browser: Any, service: LiveService) -> None:
    opened = open_dashboard(browser, service, token=None)
    page = opened.page
    panel = page.locator("#token-panel")
    page.wait_for_selector("#token-panel.asking", timeout=20_000)
    assert "HTTP 401" in panel.inner_text() and "SELFHEAL_ADMIN_TOKEN" in panel.inner_text()
    assert page.evaluate("document.activeElement.id") == "token"
    screenshot(page, "asks-for-token")
    page.fill("#token", TOKEN)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#token-panel", state="hidden", timeout=20_000)
    page.wait_for_selector("#system:has-text('running')", timeout=20_000)
    assert page.evaluate("sessionStorage.getItem('selfheal-admin-token')") == TOKEN
    # the browser logs each refused request (401) itself; nothing else may go wrong
    assert [text for text in opened.problems if "401" not in text] == []
