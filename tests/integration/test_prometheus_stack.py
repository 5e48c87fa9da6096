"""selfheal-ml inside a real Prometheus stack: Debian's ``prometheus`` and
``prometheus-alertmanager`` binaries, the live simulator and the service, all on loopback.

One stack per module (free ports, temporary directories):

- Prometheus scrapes the simulator's ``leadsite.ai`` page and remote-writes those series to
  ``POST /api/v1/write`` with the bearer token; they must appear in our MetricsStore and in
  ``GET /v1/series``;
- a ``prometheus_query`` target reads ``up`` from that Prometheus each round;
- the configured ``alertmanager`` notifier's alert shows in Alertmanager's
  ``GET /api/v2/alerts`` and leaves it once resolved; the ``webhook`` notifier's receiver gets
  a valid webhook v4 body with our ``externalURL`` and a ``generatorURL`` to the dashboard;
- Prometheus scrapes our ``/metrics`` and holds ``selfheal_anomaly_score`` and
  ``selfheal_forecast``.

A missing binary skips the module with the reason (``.ci/run`` installs both packages).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pandas as pd
import pytest
import uvicorn

from selfheal_ml.alerting.payload import WebhookPayload
from selfheal_ml.api import create_app
from selfheal_ml.clock import RealClock
from selfheal_ml.config import (
    Agents,
    Intervals,
    NotifierSetting,
    ScoreExportSettings,
    Settings,
    Target,
)
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.server import create_sim_app

pytestmark = pytest.mark.integration

ServeApp = Callable[[Any], AbstractContextManager[str]]
TOKEN = "prometheus-stack-test-token"
EXTERNAL_URL = "https://selfheal.example.com"
WAIT_S = 120.0


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (apt-get install prometheus prometheus-alertmanager)")
    return path


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _free_port() -> int:
    with _free_socket() as sock:
        return int(sock.getsockname()[1])


def _wait_for(what: str, check: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, KeyError, ValueError) as error:
            last_error = error
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout_s:g} s (last error: {last_error!r})")


@contextmanager
def _process(argv: list[str], log_path: Path, ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(
                f"{Path(argv[0]).name} ready (log: {log_path})",
                lambda: process.poll() is None and httpx.get(ready_url, timeout=2).is_success,
                60.0,
            )
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def _serve_with_lifespan(app: Any, sock: socket.socket) -> Iterator[str]:
    """Run ``app`` (started runtime: lifespan on) with uvicorn in a thread on ``sock``."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait_for("the service started", lambda: server.started, 60.0)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20.0)
        sock.close()


class _WebhookReceiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass
class Stack:
    service_url: str
    prometheus_url: str
    alertmanager_url: str
    app: Any
    webhook_bodies: list[dict[str, Any]]

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


def _prometheus_config(sim_port: int, service_port: int) -> str:
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sim
    metrics_path: /p/leadsite.ai/metrics
    static_configs:
      - targets: ["127.0.0.1:{sim_port}"]
  - job_name: selfheal
    static_configs:
      - targets: ["127.0.0.1:{service_port}"]
remote_write:
  - url: http://127.0.0.1:{service_port}/api/v1/write
    authorization:
      credentials: {TOKEN}
    write_relabel_configs:
      - source_labels: [job]
        regex: sim
        action: keep
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
"""


def _settings(
    tmp_path: Path, prometheus_url: str, alertmanager_url: str, webhook_url: str
) -> Settings:
    off = {"enabled": False}
    return Settings(
        admin_token=TOKEN,
        db_path=str(tmp_path / "selfheal.duckdb"),
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        intervals=Intervals(health_check_s=1.0),
        agents=Agents.model_validate(
            {name: off for name in ("security", "diagnostic", "repair", "learning", "performance")}
        ),
        targets=(
            Target(kind="prometheus_query", name="prom", url=prometheus_url, queries=("up",)),
        ),
        notifiers=(
            NotifierSetting(kind="alertmanager", name="am", url=alertmanager_url, resend_s=5.0),
            NotifierSetting(kind="webhook", name="hook", url=webhook_url, backoff_s=0.1),
        ),
        external_url=EXTERNAL_URL,
        score_export=ScoreExportSettings(top_n=1000),
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, serve_app: ServeApp) -> Iterator[Stack]:
    prometheus = _binary("prometheus")
    alertmanager = _binary("prometheus-alertmanager")
    tmp_path = tmp_path_factory.mktemp("prometheus-stack")
    service_socket = _free_socket()
    try:
        yield from _run_stack(tmp_path, service_socket, prometheus, alertmanager, serve_app)
    finally:
        service_socket.close()


def _run_stack(
    tmp_path: Path,
    service_socket: socket.socket,
    prometheus: str,
    alertmanager: str,
    serve_app: ServeApp,
) -> Iterator[Stack]:
    service_port = int(service_socket.getsockname()[1])
    clock = RealClock()
    simulator = PlatformSimulator(seed=7, start=clock.now())
    handler = type("Receiver", (_WebhookReceiver,), {"bodies": []})
    receiver = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    webhook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with serve_app(create_sim_app(simulator, clock)) as sim_url:
        sim_port = int(sim_url.rsplit(":", 1)[1])
        prometheus_port, alertmanager_port = _free_port(), _free_port()
        (tmp_path / "prometheus.yml").write_text(_prometheus_config(sim_port, service_port))
        (tmp_path / "alertmanager.yml").write_text(
            "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n"
        )
        prometheus_url = f"http://127.0.0.1:{prometheus_port}"
        alertmanager_url = f"http://127.0.0.1:{alertmanager_port}"
        prometheus_argv = [
            prometheus,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ]
        alertmanager_argv = [
            alertmanager,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'alertmanager'}",
            f"--web.listen-address=127.0.0.1:{alertmanager_port}",
            "--cluster.listen-address=",
        ]
        settings = _settings(tmp_path, prometheus_url, alertmanager_url, webhook_url)
        app = create_app(settings, clock=clock)
        with (
            _process(
                alertmanager_argv, tmp_path / "alertmanager.log", f"{alertmanager_url}/-/ready"
            ),
            _serve_with_lifespan(app, service_socket) as service_url,
            _process(prometheus_argv, tmp_path / "prometheus.log", f"{prometheus_url}/-/ready"),
        ):
            yield Stack(service_url, prometheus_url, alertmanager_url, app, handler.bodies)
    receiver.shutdown()
    receiver.server_close()


def _series(stack: Stack, prefix: str) -> list[str]:
    response = httpx.get(f"{stack.service_url}/v1/series", params={"prefix": prefix}, timeout=10)
    response.raise_for_status()
    return [str(series) for series in response.json()]


def _prometheus_vector(stack: Stack, query: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.prometheus_url}/api/v1/query", params={"query": query}, timeout=10
    )
    response.raise_for_status()
    return list(response.json()["data"]["result"])


def test_remote_written_series_reach_the_store_and_the_series_api(stack: Stack) -> None:
    written = _wait_for(
        "remote-written simulator series in /v1/series",
        lambda: [s for s in _series(stack, "") if 'job="sim"' in s and "target=" not in s],
    )
    latest = stack.runtime.metrics.latest(written[0])
    assert latest is not None
    assert latest[0] > datetime.now(UTC) - timedelta(minutes=5)
    counters = stack.app.state.remote_write.counters.snapshot()
    assert counters[0]["ok"] >= 1 and counters[1] >= len(written)


def test_a_prometheus_query_target_reads_from_prometheus(stack: Stack) -> None:
    queried = _wait_for(
        "up{...,target=prom} from the prometheus_query target",
        lambda: [s for s in _series(stack, "up{") if 'target="prom"' in s and 'job="sim"' in s],
    )
    assert stack.runtime.metrics.latest(queried[0])[1] == 1.0
    health = _wait_for(
        "query_up 1", lambda: stack.runtime.metrics.latest('query_up{target="prom"}')
    )
    assert health[1] == 1.0


def _alertmanager_alerts(stack: Stack, alertname: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.alertmanager_url}/api/v2/alerts",
        params={"filter": f'alertname="{alertname}"'},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def _bodies_of(stack: Stack, alertname: str) -> list[dict[str, Any]]:
    """Webhook bodies of the group ``alertname`` (the agents may raise alerts of their own)."""
    return [
        body
        for body in list(stack.webhook_bodies)
        if body["groupLabels"].get("alertname") == alertname
    ]


def test_notifications_reach_alertmanager_and_a_webhook_and_resolve(stack: Stack) -> None:
    alerts = stack.runtime.alerts
    labels = {"alertname": "SelfhealStackTest", "platform": "leadsite.ai"}
    alerts.fire(labels, {"summary": "raised by the integration test"}, "critical")
    alerts.evaluate(datetime.now(UTC) + timedelta(seconds=31))  # past group_wait
    [active] = _wait_for(
        "the alert in Alertmanager's GET /api/v2/alerts",
        lambda: _alertmanager_alerts(stack, "SelfhealStackTest"),
    )
    assert active["status"]["state"] == "active"
    assert active["labels"] == {**labels, "severity": "critical"}
    assert active["generatorURL"].startswith(f"{EXTERNAL_URL}/admin/#alert=")

    body = _wait_for("a webhook body", lambda: _bodies_of(stack, "SelfhealStackTest"))[0]
    payload = WebhookPayload.model_validate(body)
    assert payload.to_json() == body  # every v4 field, nothing else
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["externalURL"] == EXTERNAL_URL
    assert body["alerts"][0]["generatorURL"] == active["generatorURL"]

    alerts.resolve({**labels, "severity": "critical"}, auto=False)
    alerts.evaluate(datetime.now(UTC) + timedelta(seconds=400))  # the group's next look
    _wait_for(
        "the alert gone from Alertmanager's active alerts",
        lambda: not _alertmanager_alerts(stack, "SelfhealStackTest"),
    )
    resolved = _wait_for(
        "a resolved webhook body",
        lambda: [b for b in _bodies_of(stack, "SelfhealStackTest") if b["status"] == "resolved"],
    )
    assert [alert["status"] for alert in resolved[0]["alerts"]] == ["resolved"]
    counts = stack.runtime.deliveries.snapshot()
    assert counts["am"].delivered >= 2 and counts["hook"].delivered >= 2
    assert counts["am"].failed == counts["hook"].failed == 0


def test_prometheus_scrapes_our_scores_and_forecasts(stack: Stack) -> None:
    scored = _wait_for(
        "selfheal_anomaly_score in Prometheus",
        lambda: _prometheus_vector(stack, "selfheal_anomaly_score"),
    )
    series = scored[0]["metric"]["series"]
    now = datetime.now(UTC)
    steps = range(1, 25)
    stack.runtime.forecasts.save(
        series,
        now,
        "test",
        False,
        pd.DataFrame(
            {
                "step": list(steps),
                "ts": [now + timedelta(hours=step) for step in steps],
                "mean": [10.0 + step for step in steps],
                "lo_80": [8.0 + step for step in steps],
                "hi_80": [12.0 + step for step in steps],
                "lo_95": [6.0 + step for step in steps],
                "hi_95": [14.0 + step for step in steps],
            }
        ),
    )
    forecast = _wait_for(
        "selfheal_forecast in Prometheus",
        lambda: _prometheus_vector(
            stack, 'selfheal_forecast{horizon_h="6",forecast_quantile="0.5"}'
        ),
    )
    assert float(forecast[0]["value"][1]) == 16.0
    assert forecast[0]["metric"]["series"] == series


DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "selfheal-ml-scores.json"


def test_every_dashboard_query_runs_on_prometheus(stack: Stack) -> None:
    _wait_for(
        "our metrics in Prometheus", lambda: _prometheus_vector(stack, "selfheal_alerts_active")
    )
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert expressions
    for expression in expressions:
        query = expression.replace("$series", ".*").replace("$horizon", "6")
        response = httpx.get(
            f"{stack.prometheus_url}/api/v1/query", params={"query": query}, timeout=10
        )
        assert response.json()["status"] == "success", (expression, response.text)
