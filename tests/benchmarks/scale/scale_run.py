"""One run of the scale benchmark: the whole service watching a bulk exporter; prints JSON.

``python scale_run.py URL TARGETS SERIES ROUNDS STORM_ROUNDS`` serves the API (uvicorn, a free
port) over the full runtime (every agent, DuckDB in a temporary folder) with ``TARGETS``
Prometheus targets at ``URL/metrics/<i>``, runs three warm-up rounds, ``ROUNDS`` measured
rounds, then asks the exporter for a storm and runs ``STORM_ROUNDS`` more. A round is one
``Tick(health)`` and everything it sets off (collection, storage, scoring, diagnosis), drained.
A thread polls ``GET /health`` every 0.2 s throughout, as an outside client would.

CPU is this process's CPU time (``time.process_time``: all threads), so other load on the
machine does not count. Run by ``test_scale.py``; with ``PYTHONPATH`` pointing at another
checkout it measures that checkout (the baseline).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import threading
import time

import httpx
import psutil


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HealthPoller(threading.Thread):
    """Polls ``/health`` every 0.2 s; keeps every latency (a timeout counts as 10 s)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.latencies_s: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self.stopping.wait(0.2):
                started = time.perf_counter()
                try:
                    client.get(self.url)
                    self.latencies_s.append(time.perf_counter() - started)
                except httpx.HTTPError:
                    self.latencies_s.append(10.0)


async def _round(runtime: object) -> None:
    from selfheal_ml.events import Tick

    bus = runtime.bus  # type: ignore[attr-defined]
    await bus.publish(Tick(ts=runtime.clock.now(), source="bench", kind="health"))  # type: ignore[attr-defined]
    await bus.drain()


async def main(url: str, targets: int, series: int, rounds: int, storm_rounds: int) -> dict:
    import uvicorn

    import selfheal_ml
    from selfheal_ml.api.app import create_app
    from selfheal_ml.clock import RealClock
    from selfheal_ml.config import Target, load_settings

    folder = tempfile.mkdtemp(prefix="scale-bench-")
    os.environ["SELFHEAL_DB"] = os.path.join(folder, "bench.duckdb")
    settings = load_settings().model_copy(
        update={
            "targets": tuple(
                Target(kind="prometheus", name=f"t{index}", url=f"{url}/metrics/{index}",
                       platform=f"platform-{index}")
                for index in range(targets)
            )
        }
    )  # fmt: skip
    app = create_app(settings, dev=True, clock=RealClock(), run_scheduler=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
        await asyncio.sleep(0.05)
    runtime = app.state.runtime
    me = psutil.Process()
    poller = HealthPoller(f"http://127.0.0.1:{port}/health")
    poller.start()
    monitor = runtime.agents["Monitor"].agent
    predictive = runtime.agents["Predictive"].agent
    for _ in range(3):  # first scrapes (no rates yet), imports, first cursors
        await _round(runtime)
    scored_before, timeouts = predictive.scored, 0
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    round_cpu: list[float] = []
    error_kinds: dict[str, int] = {}
    for _ in range(rounds):
        started = time.process_time()
        await _round(runtime)
        round_cpu.append(time.process_time() - started)
        timeouts += len(monitor.last_result.errors)
        for error in monitor.last_result.errors.values():
            error_kinds[error] = error_kinds.get(error, 0) + 1
    cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - wall_before
    steady_health = list(poller.latencies_s)
    scored = (predictive.scored - scored_before) / max(rounds, 1)
    async with httpx.AsyncClient() as client:
        await client.get(f"{url}/storm")
    anomalies_before = predictive.anomalies
    storm_before = time.process_time()
    for _ in range(storm_rounds):
        await _round(runtime)
    storm_cpu_s = time.process_time() - storm_before
    storm_health = poller.latencies_s[len(steady_health) :]
    stored = len(runtime.metrics.catalogue())
    rss_mb = me.memory_info().rss / 2**20
    poller.stopping.set()
    server.should_exit = True
    await serving
    return {
        "code": os.path.dirname(selfheal_ml.__file__),
        "targets": targets,
        "series": targets * series,
        "rounds": rounds,
        "cpu_per_round_s": cpu_s / max(rounds, 1),
        "cpu_percent_at_30s": 100.0 * cpu_s / max(rounds, 1) / 30.0,
        "median_round_cpu_s": sorted(round_cpu)[len(round_cpu) // 2] if round_cpu else 0.0,
        "wall_per_round_s": wall_s / max(rounds, 1),
        "collector_errors": timeouts,
        "error_kinds": error_kinds,
        "scored_per_round": scored,
        "series_stored": stored,
        "rss_mb": rss_mb,
        "storm_rounds": storm_rounds,
        "storm_cpu_s": storm_cpu_s,
        "storm_anomalies": predictive.anomalies - anomalies_before,
        "health_max_s": max(steady_health, default=0.0),
        "storm_health_max_s": max(storm_health, default=0.0),
    }


if __name__ == "__main__":
    url, targets, series, rounds, storm_rounds = sys.argv[1:6]
    result = asyncio.run(main(url, int(targets), int(series), int(rounds), int(storm_rounds)))
    print("RESULT " + json.dumps(result))
