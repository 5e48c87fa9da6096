"""Metric series for people: the catalogue, and one series' recent values with its scores.

The admin dashboard draws these (values, anomaly scores, flagged points); they are also handy
from a notebook or ``curl``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query

from selfheal_ml.api.deps import ComputeDep, RuntimeDep
from selfheal_ml.runtime import Runtime

router = APIRouter(tags=["series"])


@router.get("/v1/series")
async def list_series(
    runtime: RuntimeDep,
    pool: ComputeDep,
    prefix: str = "",
    limit: int = Query(default=500, ge=1, le=5000),
) -> list[str]:
    """Series names in the catalogue, optionally those starting with ``prefix``."""
    return await pool.run(_names, runtime, prefix, limit)


def _names(runtime: Runtime, prefix: str, limit: int) -> list[str]:
    names = sorted(str(name) for name in runtime.metrics.catalogue()["series"])
    return [name for name in names if name.startswith(prefix)][:limit]


@router.get(
    "/v1/series/{series:path}",
    # Starlette's path convertor (``.*``) does not cross a line break: a key holding one
    # matches no route and is answered 404 by the router (found by the OpenAPI fuzz test)
    responses={404: {"description": "No route: the series key holds a line break"}},
)
async def series_history(
    series: str,
    runtime: RuntimeDep,
    pool: ComputeDep,
    hours: float = Query(default=6.0, gt=0, le=24 * 7),
) -> dict[str, Any]:
    """The last ``hours`` of ``series`` (up to its newest point): values, scores, anomalies,
    and ``has_forecast`` (whether ``GET /v1/forecast/{series}`` has one to show)."""
    return await pool.run(_history, runtime, series, hours)


def _history(runtime: Runtime, series: str, hours: float) -> dict[str, Any]:
    latest = runtime.metrics.latest(series)
    end = runtime.clock.now() if latest is None else latest[0] + timedelta(seconds=1)
    start = end - timedelta(hours=hours)
    points = runtime.metrics.window(series, start, end)
    scores = runtime.anomalies.scores(series, start, end)
    return {
        "series": series,
        "has_forecast": series in runtime.forecasts.series(),
        "ts": [ts.isoformat() for ts in points["ts"]],
        "value": [float(value) for value in points["value"]],
        "scores": {
            "ts": [score.ts.isoformat() for score in scores],
            "score": [score.calibrated for score in scores],
            "expected_low": [score.expected_low for score in scores],
            "expected_high": [score.expected_high for score in scores],
        },
        "anomalies": [
            {"ts": score.ts.isoformat(), "value": score.value}
            for score in scores
            if score.is_anomaly
        ],
    }
