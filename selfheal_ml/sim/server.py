"""Live mode: the simulator as real HTTP services on loopback (FastAPI + uvicorn).

This module is an adapter (the only I/O in ``selfheal_ml.sim``). Before answering any request
the simulator is advanced to the clock's now, so in live mode virtual time follows wall time.

Routes: ``/p/{platform}/health`` (200 healthy/degraded, 503 down) and ``/p/{platform}/metrics``
(Prometheus text 0.0.4) for each platform; ``/deps/{dependency}/metrics`` for the shared
``postgres`` and ``redis`` (their exporters' pages: the dependency gauges, once, labelled
``dependency``); ``/health`` and ``/metrics`` for all platforms and dependencies;
``POST /sim/faults`` (``{"platform", "kind", "severity"?, "duration_s"?}`` -> ``{"fault_id"}``),
``GET /sim/faults`` (ground truth, active and past), ``POST /sim/actions``
(``{"platform", "action"}`` -> the action's result), ``GET /sim/config-changes``. Bad requests
get 422 (unknown platform or dependency in the path: 404) with FastAPI's error shape, whose
``loc`` names the field.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict

from selfheal_ml.clock import Clock, RealClock
from selfheal_ml.errors import ValidationError
from selfheal_ml.sim.catalogue import FaultRecord
from selfheal_ml.sim.exposition import DEPENDENCIES
from selfheal_ml.sim.simulator import PlatformSimulator

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class FaultRequest(BaseModel):
    """Body of ``POST /sim/faults``."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    platform: str | None = None
    severity: float = 1.0
    duration_s: float | None = None


class ActionRequest(BaseModel):
    """Body of ``POST /sim/actions``."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    action: str


def fault_json(record: FaultRecord) -> dict[str, Any]:
    """A fault record as JSON-ready data."""

    def iso(moment: Any) -> str | None:
        return None if moment is None else str(moment.isoformat())

    return {
        "fault_id": record.fault_id,
        "kind": record.kind.value,
        "platform": record.platform,
        "platforms": list(record.platforms),
        "severity": record.severity,
        "injected_at": iso(record.injected_at),
        "expires_at": iso(record.expires_at),
        "resolved_at": iso(record.resolved_at),
        "resolved_by": record.resolved_by,
        "active": record.active,
        "symptoms": [asdict(symptom) for symptom in record.symptoms],
        "fixing_actions": [action.value for action in record.fixing_actions],
        "details": dict(record.details),
    }


def _unprocessable(error: ValidationError, where: str) -> JSONResponse:
    detail = [{"loc": [where, error.field], "msg": error.problem, "type": "value_error"}]
    return JSONResponse(status_code=422, content={"detail": detail})


class _Live:
    """The simulator behind a lock, caught up with the clock before each use."""

    def __init__(self, simulator: PlatformSimulator, clock: Clock) -> None:
        self.simulator = simulator
        self.clock = clock
        self._lock = threading.Lock()

    @contextmanager
    def current(self) -> Iterator[PlatformSimulator]:
        """Hold the simulator, advanced to the clock's now."""
        with self._lock:
            behind_s = (self.clock.now() - self.simulator.now()).total_seconds()
            if behind_s > 0:
                self.simulator.advance(behind_s)
            yield self.simulator

    def known(self, platform: str) -> str:
        """``platform`` if the simulator has it, else a 404 naming the field."""
        if platform not in self.simulator.platform_names:
            detail = [{"loc": ["path", "platform"], "msg": f"unknown platform {platform!r}"}]
            raise HTTPException(status_code=404, detail=detail)
        return platform

    @staticmethod
    def known_dependency(dependency: str) -> str:
        """``dependency`` if the simulator has it, else a 404 naming the field."""
        if dependency not in DEPENDENCIES:
            detail = [{"loc": ["path", "dependency"], "msg": f"unknown dependency {dependency!r}"}]
            raise HTTPException(status_code=404, detail=detail)
        return dependency


def _add_platform_routes(app: FastAPI, live: _Live) -> None:
    @app.get("/health")
    def health() -> dict[str, Any]:
        with live.current() as simulator:
            statuses = {name: simulator.health(name) for name in simulator.platform_names}
            now = simulator.now().isoformat()
        return {"status": "ok", "now": now, "platforms": statuses}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        with live.current() as simulator:
            text = simulator.prometheus_text()
        return PlainTextResponse(text, media_type=PROMETHEUS_CONTENT_TYPE)

    @app.get("/p/{platform}/health")
    def platform_health(platform: str) -> JSONResponse:
        with live.current() as simulator:
            status = simulator.health(live.known(platform))
        code = 503 if status == "down" else 200
        return JSONResponse(status_code=code, content={"platform": platform, "status": status})

    @app.get("/p/{platform}/metrics", response_class=PlainTextResponse)
    def platform_metrics(platform: str) -> PlainTextResponse:
        with live.current() as simulator:
            text = simulator.prometheus_text(live.known(platform))
        return PlainTextResponse(text, media_type=PROMETHEUS_CONTENT_TYPE)

    @app.get("/deps/{dependency}/metrics", response_class=PlainTextResponse)
    def dependency_metrics(dependency: str) -> PlainTextResponse:
        with live.current() as simulator:
            text = simulator.dependency_text(live.known_dependency(dependency))
        return PlainTextResponse(text, media_type=PROMETHEUS_CONTENT_TYPE)


def _add_control_routes(app: FastAPI, live: _Live) -> None:
    @app.post("/sim/faults", status_code=201, response_model=None)
    def inject(request: FaultRequest) -> dict[str, str] | JSONResponse:
        with live.current() as simulator:
            try:
                fault_id = simulator.inject(
                    request.kind, request.platform, request.severity, request.duration_s
                )
            except ValidationError as error:
                return _unprocessable(error, "body")
        return {"fault_id": fault_id}

    @app.get("/sim/faults")
    def faults(active_only: bool = False) -> dict[str, Any]:
        with live.current() as simulator:
            records = simulator.faults(active_only=active_only)
        return {"faults": [fault_json(record) for record in records]}

    @app.post("/sim/actions", response_model=None)
    def act(request: ActionRequest) -> dict[str, Any] | JSONResponse:
        with live.current() as simulator:
            try:
                result = simulator.apply_action(request.platform, request.action)
            except ValidationError as error:
                return _unprocessable(error, "body")
        return {
            "action": result.action.value,
            "platform": result.platform,
            "fixed": result.fixed,
            "fault_ids": list(result.fault_ids),
            "cost": result.cost,
        }

    @app.get("/sim/config-changes")
    def config_changes() -> dict[str, Any]:
        with live.current() as simulator:
            changes = simulator.config_changes()
        return {"changes": [{**asdict(change), "ts": change.ts.isoformat()} for change in changes]}


def create_sim_app(simulator: PlatformSimulator, clock: Clock) -> FastAPI:
    """The live simulator app; every request first advances ``simulator`` to ``clock.now()``."""
    app = FastAPI(title="selfheal-ml platform simulator")
    live = _Live(simulator, clock)
    _add_platform_routes(app, live)
    _add_control_routes(app, live)
    return app


def serve_simulator(host: str = "127.0.0.1", port: int = 8700, seed: int = 0) -> None:
    """Run the live simulator (blocking) until interrupted; ``selfheal-ml sim serve`` calls it."""
    clock = RealClock()
    simulator = PlatformSimulator(seed=seed, start=clock.now())
    uvicorn.run(create_sim_app(simulator, clock), host=host, port=port, log_level="warning")
