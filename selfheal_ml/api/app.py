"""``create_app``: the FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from selfheal_ml import __version__
from selfheal_ml.api.protection import add_protection
from selfheal_ml.api.remote_write_ingest import RemoteWriteCounters, RemoteWriteIngest
from selfheal_ml.api.routes import (
    admin,
    alerts,
    anomalies,
    decisions,
    forecasts,
    health,
    incidents,
    metrics,
    optimizations,
    remote_write,
    repair,
    repairs,
    security,
    series,
)
from selfheal_ml.api.score_metrics import RemoteWriteMetricsCollector, ScoreMetricsCollector
from selfheal_ml.clock import Clock
from selfheal_ml.collectors.remote_write import RemoteWriteDecoder
from selfheal_ml.config import Settings
from selfheal_ml.errors import ConfigError, ValidationError
from selfheal_ml.runtime import build_runtime, start_runtime
from selfheal_ml.security.bouncer_stream import BouncerStream
from selfheal_ml.telemetry import build_registry

log = logging.getLogger("selfheal_ml.api")


def _location(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


async def _validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _location(first["loc"])
    return JSONResponse(
        status_code=422,
        content={
            "error": f"{field}: {first['msg']}",
            "field": field,
            "detail": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors],
        },
    )


async def _domain_validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return JSONResponse(
        status_code=422, content={"error": str(exc), "field": exc.field, "detail": exc.problem}
    )


def create_app(
    settings: Settings,
    *,
    dev: bool = False,
    clock: Clock | None = None,
    run_scheduler: bool = True,
) -> FastAPI:
    """The selfheal-ml API over a runtime built from ``settings`` when the app starts.

    Refuses (``ConfigError``) to build without ``SELFHEAL_ADMIN_TOKEN`` unless ``dev``.
    """
    if settings.admin_token is None and not dev:
        raise ConfigError("SELFHEAL_ADMIN_TOKEN", "a bearer token (or --dev)", None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings, clock=clock)
        app.state.runtime = runtime
        await start_runtime(runtime, run_scheduler=run_scheduler)
        try:
            yield
        finally:
            await runtime.stop()
            app.state.runtime = None
            app.state.compute_pool.close()

    app = FastAPI(title="selfheal-ml", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.dev = dev
    app.state.runtime = None
    app.state.registry = build_registry(lambda: app.state.runtime)
    app.state.remote_write = RemoteWriteIngest(
        RemoteWriteDecoder(
            settings.remote_write.max_body_bytes, settings.remote_write.max_decoded_bytes
        ),
        RemoteWriteCounters(),
    )
    app.state.registry.register(
        ScoreMetricsCollector(lambda: app.state.runtime, settings.score_export)
    )
    app.state.registry.register(RemoteWriteMetricsCollector(app.state.remote_write.counters))
    app.state.bouncer_stream = BouncerStream()
    if settings.admin_token is None:
        log.warning("--dev without SELFHEAL_ADMIN_TOKEN: admin routes are OPEN")
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(ValidationError, _domain_validation_failed)
    app.add_exception_handler(decisions.BouncerRefusedError, decisions.bouncer_refused)
    routers = (
        health,
        admin,
        alerts,
        anomalies,
        forecasts,
        series,
        repair,
        repairs,
        incidents,
        metrics,
        decisions,
        security,
        optimizations,
        remote_write,
    )
    for module in routers:
        app.include_router(module.router)
    add_protection(app, settings, [route for module in routers for route in module.router.routes])
    return app
