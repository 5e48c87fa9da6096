"""Benchmark: the request limits against a real server (``selfheal-ml serve`` on a free port).

- ``/health`` latency while 8 anonymous clients (8 processes) load the compute routes
  (scoring 500 points, fitting a 200-point forecast, listing alerts), each in a loop: p50/p99
  of ``/health`` idle and under that load in the same run, and their ratio. Run twice: with
  the default limits (most of the load is answered 429 by the per-client limiter), and with
  the per-client limits lifted (every request computes; only the compute pool guards the loop).
  Asserted: p99 under load < 50 ms.
- 4 concurrent 51 MB bodies to ``POST /api/v2/alerts`` (the general limit) and to
  ``POST /api/v1/write`` (remote write's own limit), declared (``Content-Length``) and
  streamed (chunked): every answer 413, and the server's RSS grows by < 50 MB.

See docs/hardening.md. Run: .venv/bin/pytest tests/benchmarks/test_request_limits_under_load.py
    -m benchmark -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest

CLIENTS = 8
HEALTH_SAMPLES = 400
LOAD_S = 20.0  # the load runs this long; /health is sampled inside it
BODY_BYTES = 51 * 1024 * 1024
P99_BUDGET_MS = 50.0
RSS_BUDGET_MB = 50.0
UNLIMITED = (
    "[limits]\nclient_rate_per_s = 100000.0\nclient_burst = 100000\nclient_concurrency = 64\n"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(folder: Path, config: str) -> Iterator[tuple[str, psutil.Process]]:
    port = _free_port()
    (folder / "limits.toml").write_text(config, "utf-8")
    environment = {
        **os.environ,
        "SELFHEAL_ADMIN_TOKEN": "bench-token",
        "SELFHEAL_DB": str(folder / "serve.duckdb"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "ENABLE_SELF_HEALING": "false",
    }
    command = [sys.executable, "-m", "selfheal_ml.cli", "serve", "--port", str(port)]
    command += ["--config", str(folder / "limits.toml")]
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _points(count: int, step: timedelta) -> list[dict[str, object]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {"ts": (start + index * step).isoformat(), "value": 100.0 + (index % 24) * 3.0}
        for index in range(count)
    ]


def _health_ms(url: str, samples: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for _ in range(samples):
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            timings.append((time.perf_counter() - started) * 1000.0)
    return timings


def _load(url: str, until: float) -> Counter[int]:
    """One anonymous client (its own process, so its JSON work does not slow the prober)."""
    score = {"series": "bench", "points": _points(500, timedelta(minutes=1))}
    forecast = {"history": _points(200, timedelta(hours=1)), "horizon": 24}
    answers: Counter[int] = Counter()
    with httpx.Client(base_url=url, timeout=60.0) as client:
        while time.monotonic() < until:
            for method, path, body in (
                ("POST", "/v1/anomaly/score", score),
                ("POST", "/v1/forecast", forecast),
                ("GET", "/v1/alerts", None),
            ):
                answers[client.request(method, path, json=body).status_code] += 1
    return answers


def _start_compute_workers(url: str) -> None:
    """One scoring and one forecast request per compute worker process, with the token (not
    counted against the anonymous limits): the workers start and import their libraries."""
    headers = {"Authorization": "Bearer bench-token"}
    score = {"series": "warm-up", "points": _points(50, timedelta(minutes=1))}
    forecast = {"history": _points(200, timedelta(hours=1)), "horizon": 24}
    with (
        httpx.Client(base_url=url, timeout=120.0, headers=headers) as client,
        ThreadPoolExecutor(4) as pool,
    ):
        answers = [
            pool.submit(client.post, path, json=body)
            for path, body in (("/v1/anomaly/score", score), ("/v1/forecast", forecast)) * 2
        ]
        assert all(answer.result().status_code == 200 for answer in answers)


def _cpu_s(server: psutil.Process) -> float:
    """CPU seconds (user + system) of the API process, its threads included."""
    times = server.cpu_times()
    return float(times.user + times.system)


def _percentiles(timings: list[float]) -> tuple[float, float]:
    return statistics.median(timings), statistics.quantiles(timings, n=100)[98]


@pytest.mark.benchmark
@pytest.mark.parametrize(
    ("limits", "config"), [("default limits", ""), ("per-client limits lifted", UNLIMITED)]
)
def test_health_stays_fast_while_compute_routes_are_loaded(
    tmp_path: Path, limits: str, config: str
) -> None:
    with _serve(tmp_path, config) as (url, server):
        _health_ms(url, 50)  # warm up
        _start_compute_workers(url)  # steady state: /health under load, not worker start-up
        idle_p50, idle_p99 = _percentiles(_health_ms(url, HEALTH_SAMPLES))
        answers: Counter[int] = Counter()
        with ProcessPoolExecutor(CLIENTS) as pool:
            until = time.monotonic() + LOAD_S
            loaders = [pool.submit(_load, url, until) for _ in range(CLIENTS)]
            time.sleep(3.0)  # let the load build up
            cpu_before, probe_started = _cpu_s(server), time.monotonic()
            loaded_p50, loaded_p99 = _percentiles(_health_ms(url, HEALTH_SAMPLES))
            api_cpu_share = (_cpu_s(server) - cpu_before) / (time.monotonic() - probe_started)
            for loader in loaders:
                answers.update(loader.result())
        print(
            f"\n{limits}: /health idle p50 {idle_p50:.2f} ms p99 {idle_p99:.2f} ms;"
            f" with {CLIENTS} anonymous compute clients p50 {loaded_p50:.2f} ms"
            f" p99 {loaded_p99:.2f} ms (p99 ratio {loaded_p99 / idle_p99:.1f}x);"
            f" API process CPU while probed {100 * api_cpu_share:.0f} % of a core;"
            f" load answers {dict(sorted(answers.items()))};"
            f" load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}"
        )
        assert loaded_p99 < P99_BUDGET_MS


def _post_body(url: str, path: str, chunked: bool) -> int:
    headers = {"Authorization": "Bearer bench-token", "Content-Type": "application/json"}
    if path == "/api/v1/write":
        headers.update({"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"})
    piece = b" " * (1024 * 1024)

    def pieces() -> Iterator[bytes]:
        for _ in range(BODY_BYTES // len(piece)):
            yield piece

    content = pieces() if chunked else b" " * BODY_BYTES
    try:
        response = httpx.post(f"{url}{path}", content=content, headers=headers, timeout=60)
    except httpx.HTTPError:  # the server answered 413 and closed while we were still sending
        return 413
    return response.status_code


@pytest.mark.benchmark
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
@pytest.mark.parametrize("path", ["/api/v2/alerts", "/api/v1/write"], ids=["alerts", "write"])
def test_four_concurrent_51_mb_bodies_are_refused_without_growing(
    tmp_path: Path, path: str, chunked: bool
) -> None:
    with _serve(tmp_path, "") as (url, process):
        _health_ms(url, 20)
        before = process.memory_info().rss
        peak = before
        with ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(_post_body, url, path, chunked) for _ in range(4)]
            while not all(future.done() for future in sent):
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.01)
            statuses = [future.result() for future in sent]
        peak = max(peak, process.memory_info().rss)
        growth_mb = (peak - before) / 1024 / 1024
        kind = "chunked" if chunked else "declared"
        print(
            f"\n4 x 51 MB {kind} bodies to {path}: answers {statuses};"
            f" RSS {before / 2**20:.0f} MB -> peak {peak / 2**20:.0f} MB (+{growth_mb:.1f} MB)"
        )
        assert statuses == [413] * 4
        assert growth_mb < RSS_BUDGET_MB
