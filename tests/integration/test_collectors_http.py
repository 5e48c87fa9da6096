"""HTTP probe and Prometheus scrape against a real HTTP server on loopback (port 0)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from selfheal_ml.collectors import HttpProbe, PrometheusScrape, collect_all
from selfheal_ml.events import MetricPoint

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakePlatform(BaseHTTPRequestHandler):
    """``/health`` 200, ``/broken`` 500, ``/slow`` answers after 1 s, ``/metrics`` counts."""

    scrapes = 0
    scrapes_lock = threading.Lock()

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, "ok")
        elif self.path == "/broken":
            self._reply(500, "database unreachable")
        elif self.path == "/slow":
            time.sleep(1.0)
            self._reply(200, "late")
        elif self.path == "/metrics":
            with FakePlatform.scrapes_lock:
                FakePlatform.scrapes += 1
                served = FakePlatform.scrapes
            self._reply(200, self._exposition(served), "text/plain; version=0.0.4")
        else:
            self._reply(404, "not found")

    @staticmethod
    def _exposition(served: int) -> str:
        return (
            "# TYPE logins_total counter\n"
            f"logins_total {100 * served}\n"
            "# TYPE open_sessions gauge\n"
            f"open_sessions {served}\n"
        )

    def _reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
        payload = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the probe gave up (timeout test); nothing to answer

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePlatform)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unused_socket:
        unused_socket.bind(("127.0.0.1", 0))
        port: int = unused_socket.getsockname()[1]
    return port


def by_series(points: list[MetricPoint]) -> dict[str, float]:
    return {point.series: point.value for point in points}


async def test_probe_of_healthy_endpoint(base_url: str) -> None:
    probe = HttpProbe("leadsite.ai", f"{base_url}/health", timeout_s=2.0, platform="leadsite.ai")
    values = by_series(await probe.collect(START))
    labels = 'platform="leadsite.ai",target="leadsite.ai"'
    assert values[f"probe_up{{{labels}}}"] == 1.0
    assert values[f"probe_status_code{{{labels}}}"] == 200.0
    assert 0.0 < values[f"probe_latency_ms{{{labels}}}"] < 2000.0
    assert probe.last_error is None


async def test_probe_of_failing_endpoint(base_url: str) -> None:
    probe = HttpProbe("leadsite.ai", f"{base_url}/broken", timeout_s=2.0)
    values = by_series(await probe.collect(START))
    assert values['probe_up{target="leadsite.ai"}'] == 0.0
    assert values['probe_status_code{target="leadsite.ai"}'] == 500.0
    assert probe.last_error == "HTTP 500"


async def test_probe_of_closed_port_is_down_without_exception(closed_port: int) -> None:
    probe = HttpProbe("tackle.io", f"http://127.0.0.1:{closed_port}/health", timeout_s=2.0)
    started = time.perf_counter()
    points = await probe.collect(START)
    assert time.perf_counter() - started < 2.0  # refused at once, not timed out
    assert by_series(points) == {'probe_up{target="tackle.io"}': 0.0}
    assert probe.last_error is not None
    assert probe.last_error.startswith("ConnectError")


async def test_probe_of_slow_endpoint_times_out(base_url: str) -> None:
    probe = HttpProbe("videosite.io", f"{base_url}/slow", timeout_s=0.3)
    started = time.perf_counter()
    points = await probe.collect(START)
    assert time.perf_counter() - started < 1.5
    assert by_series(points) == {'probe_up{target="videosite.io"}': 0.0}


async def test_scrape_of_real_metrics_endpoint_gives_rates(base_url: str) -> None:
    scrape = PrometheusScrape("clientcontact.io", f"{base_url}/metrics", timeout_s=2.0)
    first = by_series(await scrape.collect(START))
    second = by_series(await scrape.collect(START + timedelta(seconds=20)))
    assert first['scrape_up{target="clientcontact.io"}'] == 1.0
    assert 'logins_per_second{target="clientcontact.io"}' not in first
    # Each scrape adds 100 logins and one open session.
    assert second['logins_per_second{target="clientcontact.io"}'] == pytest.approx(100 / 20)
    sessions = second['open_sessions{target="clientcontact.io"}']
    assert sessions == first['open_sessions{target="clientcontact.io"}'] + 1


async def test_round_with_refused_and_slow_targets_is_not_blocked(
    base_url: str, closed_port: int
) -> None:
    collectors = [
        HttpProbe("healthy", f"{base_url}/health", timeout_s=2.0),
        HttpProbe("refused", f"http://127.0.0.1:{closed_port}/health", timeout_s=2.0),
        HttpProbe("slow", f"{base_url}/slow", timeout_s=5.0),  # outlives the round's timeout
    ]
    started = time.perf_counter()
    result = await collect_all(collectors, START, timeout_s=0.5)
    assert time.perf_counter() - started < 1.5
    values = by_series(result.points)
    assert values['probe_up{target="healthy"}'] == 1.0
    assert values['probe_up{target="refused"}'] == 0.0
    assert values['collector_up{collector="http:slow"}'] == 0.0
    assert values['collector_up{collector="http:refused"}'] == 1.0
    assert result.errors["http:slow"] == "timed out after 0.5 s"
    assert result.errors["http:refused"].startswith("ConnectError")
    await asyncio.sleep(0)  # let the cancelled probe finish closing its client
