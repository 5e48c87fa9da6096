"""Live mode: the simulator as real HTTP services on loopback (FastAPI + uvicorn).

This module is an adapter (the only I/O in ``selfheal_ml.sim``). Before answering any request
the simulator is advanced to the clock's now, so in live mode virtual time follows wall time.

Routes: ``/p/{platform}/health`` (200 healthy/degraded, 503 down) and ``/p/{platform}/metrics``
(Prometheus text 0.0.4) for each platform; ``/deps/{dependency}/metrics`` for the shared
``postgres`` and ``redis`` (their exporters' pages: the dependency gauges, once, labelled
``dependency``); ``/health`` and ``/metrics`` for all platforms and dependencies;
``POST /sim/faults`` (``{"platform", "kind", "severity"?, "duration_s"?}`` -> ``{"fault_id"}``),
``GET /sim/faults`` (ground truth, active and past), ``POST /sim/actions``
(``{"platform", "action"}`` -> the action's result), ``GET /sim/config-changes``.

With an access log (``sim serve --access-log FILE``): ``POST /sim/attacks`` (``{"kind",
"platform"?, "duration_s"?, "rate_per_s"?}`` -> the attack's ground truth), ``GET
/sim/attacks`` (every attack: addresses, start, requests sent and refused), ``GET
/sim/traffic`` (the log's path and format, the legitimate users' and health checkers'
addresses); a ``brute_force_login`` fault also starts a ``brute_force`` attack in the log.
With ``--decisions-url`` the simulator pulls the service's bans (CrowdSec stream) and refuses
banned addresses (403 in the log). See ``sim/traffic.py``. Bad requests
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
from pydantic import BaseModel, ConfigDict, Field

from selfheal_ml.clock import Clock, RealClock
from selfheal_ml.errors import ValidationError
from selfheal_ml.sim.access_log import AccessLog, DecisionPoller, start_threads
from selfheal_ml.sim.catalogue import FaultRecord
from selfheal_ml.sim.exposition import DEPENDENCIES
from selfheal_ml.sim.simulator import PlatformSimulator
from selfheal_ml.sim.traffic import HEALTH_CHECKERS, USER_ADDRESSES, AttackKind, TrafficModel

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class FaultRequest(BaseModel):
    """Body of ``POST /sim/faults``."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    platform: str | None = None
    severity: float = 1.0
    duration_s: float | None = None


class AttackRequest(BaseModel):
    """Body of ``POST /sim/attacks``."""

    model_config = ConfigDict(extra="forbid")

    kind: AttackKind
    platform: str | None = None
    duration_s: float = Field(default=300.0, gt=0, le=86_400)
    rate_per_s: float | None = Field(default=None, gt=0, le=1000)


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
        "dependencies": list(record.dependencies),
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


def _add_control_routes(app: FastAPI, live: _Live, traffic: AccessLog | None) -> None:
    @app.post("/sim/faults", status_code=201, response_model=None)
    def inject(request: FaultRequest) -> dict[str, str] | JSONResponse:
        with live.current() as simulator:
            try:
                fault_id = simulator.inject(
                    request.kind, request.platform, request.severity, request.duration_s
                )
            except ValidationError as error:
                return _unprocessable(error, "body")
            first_platform = simulator.platform_names[0]
        if traffic is not None and request.kind == "brute_force_login":
            with traffic.lock:
                traffic.model.start_attack(
                    AttackKind.BRUTE_FORCE,
                    request.platform or first_platform,
                    live.clock.now(),
                    duration_s=request.duration_s or 300.0,
                    rate_per_s=5.0 * max(request.severity, 0.1),
                    fault_id=fault_id,
                )
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


def _add_traffic_routes(app: FastAPI, live: _Live, traffic: AccessLog | None) -> None:
    def required() -> AccessLog:
        if traffic is None:
            detail = [{"loc": ["sim", "access_log"], "msg": "started without --access-log"}]
            raise HTTPException(status_code=409, detail=detail)
        return traffic

    @app.post("/sim/attacks", status_code=201)
    def attack(request: AttackRequest) -> dict[str, Any]:
        log = required()
        platform = live.known(request.platform or live.simulator.platform_names[0])
        with log.lock:
            started = log.model.start_attack(
                request.kind,
                platform,
                live.clock.now(),
                duration_s=request.duration_s,
                rate_per_s=request.rate_per_s,
            )
            return started.as_json()

    @app.get("/sim/attacks")
    def attacks() -> dict[str, Any]:
        log = required()
        with log.lock:
            return {"attacks": [attack.as_json() for attack in log.model.attacks]}

    @app.get("/sim/traffic")
    def traffic_truth() -> dict[str, Any]:
        log = required()
        return {
            "log": str(log.path),
            "format": "jsonl",
            "lines_written": log.written,
            "users": dict(USER_ADDRESSES),
            "health_checkers": list(HEALTH_CHECKERS),
        }


def create_sim_app(
    simulator: PlatformSimulator, clock: Clock, traffic: AccessLog | None = None
) -> FastAPI:
    """The live simulator app; every request first advances ``simulator`` to ``clock.now()``.
    ``traffic``: the access log the attack routes start attacks in (module docstring)."""
    app = FastAPI(title="selfheal-ml platform simulator")
    live = _Live(simulator, clock)
    _add_platform_routes(app, live)
    _add_control_routes(app, live, traffic)
    _add_traffic_routes(app, live, traffic)
    return app


def serve_simulator(
    host: str = "127.0.0.1",
    port: int = 8700,
    seed: int = 0,
    *,
    access_log: str | None = None,
    decisions_url: str | None = None,
    decisions_key: str | None = None,
) -> None:
    """Run the live simulator (blocking) until interrupted; ``selfheal-ml sim serve`` calls it.

    ``access_log``: write the platforms' traffic there; ``decisions_url``/``decisions_key``:
    honour that service's bans."""
    clock = RealClock()
    simulator = PlatformSimulator(seed=seed, start=clock.now())
    traffic = None
    workers = []
    if access_log is not None:
        model = TrafficModel(platforms=tuple(simulator.platform_names), seed=seed)
        poller = None
        if decisions_url and decisions_key:
            poller = DecisionPoller(decisions_url, decisions_key)
            workers.append(poller.run)
        banned = poller.banned if poller is not None else (lambda address: False)
        traffic = AccessLog(access_log, model, clock.now, banned=banned)
        workers.append(traffic.run)
    stop = start_threads(*workers)
    try:
        app = create_sim_app(simulator, clock, traffic)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
