"""The live simulator's read routes, answered in process: an httpx transport over a simulator.

The demo and the chaos benchmark watch the simulator through the service's own collectors
(the ``HttpProbe`` and ``PrometheusScrape`` that ``simulator_targets`` describes), with this
transport in place of the network: from the HTTP response to the ``MetricPoint`` the code path
is the one ``serve`` runs against ``selfheal-ml sim serve``; only the clock and the transport
differ. It answers the routes the Monitor reads, as :mod:`selfheal_ml.sim.server` does:

- ``GET /p/{platform}/health``: 200 (healthy or degraded) or 503 (down), JSON;
- ``GET /p/{platform}/metrics``, ``GET /deps/{dependency}/metrics``, ``GET /metrics``: the
  Prometheus text exposition 0.0.4;
- anything else: 404 (405 for a method other than GET). Faults and repairs go through the
  simulator itself (``InProcessSimulatorExecutor``), not through this transport.

It routes by path, without FastAPI: ``create_sim_app`` behind ``httpx.ASGITransport`` costs
about 34 ms per round of ten requests, minutes over a simulated week.

Latency: every response reports, in the extension :data:`SIMULATED_ELAPSED_S`, how long the
target would have taken in virtual time: a health probe, the platform's request latency
(:meth:`PlatformSimulator.response_time_ms`), so a slow database slows the probe as it would
slow a visitor; a metrics page, no time (rendering it is instant in virtual time). The probe
reports that figure rather than the wall time it measured, which under a ``SimClock`` is only
this process's overhead: noise that would differ from run to run.

>>> import asyncio
>>> from datetime import datetime, UTC
>>> simulator = PlatformSimulator(seed=1, start=datetime(2026, 1, 5, tzinfo=UTC))
>>> async def status(path: str) -> int:
...     async with httpx.AsyncClient(transport=SimulatorTransport(simulator)) as client:
...         return (await client.get(f"http://sim.local{path}")).status_code
>>> asyncio.run(status("/p/tackle.io/health")), asyncio.run(status("/p/example.com/health"))
(200, 404)
"""

from __future__ import annotations

import json

import httpx

from selfheal_ml.clock import SIMULATED_ELAPSED_S, Clock
from selfheal_ml.sim.exposition import DEPENDENCIES
from selfheal_ml.sim.simulator import PlatformSimulator

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _response(status: int, body: str, content_type: str, elapsed_s: float) -> httpx.Response:
    return httpx.Response(
        status,
        content=body.encode(),
        headers={"content-type": content_type},
        extensions={SIMULATED_ELAPSED_S: elapsed_s},
    )


def _json(status: int, body: object, elapsed_s: float = 0.0) -> httpx.Response:
    return _response(status, json.dumps(body), "application/json", elapsed_s)


def _exposition(text: str) -> httpx.Response:
    return _response(200, text, PROMETHEUS_CONTENT_TYPE, 0.0)


def _not_found(field: str, value: str) -> httpx.Response:
    detail = [{"loc": ["path", field], "msg": f"unknown {field} {value!r}"}]
    return _json(404, {"detail": detail})


class SimulatorTransport(httpx.AsyncBaseTransport):
    """Answers the simulator's read routes from ``simulator`` (see the module docstring).

    With a ``clock``, the simulator is first advanced to the clock's now, as the live server
    does before every request; without one its owner keeps it in step (the demo's driver).
    """

    def __init__(self, simulator: PlatformSimulator, clock: Clock | None = None) -> None:
        self.simulator = simulator
        self.clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One response, computed inline (nothing here waits)."""
        if request.method != "GET":
            return _json(405, {"detail": "Method Not Allowed"})
        self._catch_up()
        parts = request.url.path.strip("/").split("/")
        if parts == ["metrics"]:
            return _exposition(self.simulator.prometheus_text())
        if len(parts) != 3:
            return _json(404, {"detail": "Not Found"})
        scope, name, resource = parts
        if scope == "deps" and resource == "metrics":
            if name not in DEPENDENCIES:
                return _not_found("dependency", name)
            return _exposition(self.simulator.dependency_text(name))
        if scope == "p" and resource in ("health", "metrics"):
            if name not in self.simulator.platform_names:
                return _not_found("platform", name)
            if resource == "metrics":
                return _exposition(self.simulator.prometheus_text(name))
            return self._health(name)
        return _json(404, {"detail": "Not Found"})

    def _health(self, platform: str) -> httpx.Response:
        status = self.simulator.health(platform)
        elapsed_s = self.simulator.response_time_ms(platform) / 1000.0
        body = {"platform": platform, "status": status}
        return _json(503 if status == "down" else 200, body, elapsed_s)

    def _catch_up(self) -> None:
        if self.clock is None:
            return
        behind_s = (self.clock.now() - self.simulator.now()).total_seconds()
        if behind_s > 0:
            self.simulator.advance(behind_s)
