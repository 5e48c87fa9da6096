"""Forecasts: served from the cache the Predictive agent keeps, or ad hoc from a history.

``GET /v1/forecast/{series}`` never fits anything: it answers from the newest cached
forecast. ``POST /v1/forecast`` fits the default forecaster on a history sent in the request,
in the compute pool, after checking the history is long enough, regular and finite. pandas,
numpy and the forecasters (statsmodels) are imported by the work that needs them, not with
the API.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from selfheal_ml.api.deps import ComputeDep, RuntimeDep
from selfheal_ml.api.openapi_errors import NOT_FOUND
from selfheal_ml.api.schemas import TimedValue
from selfheal_ml.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from selfheal_ml.forecast.base import Forecast

router = APIRouter(tags=["forecasts"])

SUPPORTED_LEVELS = (80, 95)
MIN_HISTORY = 48
MAX_HISTORY = 24 * 7 * 8


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError as exc:
        raise ValidationError(
            "query.levels", f"expected integers like 80,95, got {text!r}"
        ) from exc
    if not levels or not set(levels) <= set(SUPPORTED_LEVELS):
        raise ValidationError("query.levels", f"expected some of 80,95, got {text!r}")
    return levels


@router.get("/v1/forecast/{series:path}", responses=NOT_FOUND)
def cached_forecast(
    series: str,
    runtime: RuntimeDep,
    horizon: int = Query(default=24, ge=1, le=24),
    levels: str = "80,95",
) -> dict[str, Any]:
    """The cached forecast of ``series`` (hourly steps), cut to ``horizon``."""
    wanted = _levels(levels)
    cached = runtime.forecasts.load(series)
    if cached is None:
        raise HTTPException(
            status_code=404,
            detail={
                "error": f"path.series: no forecast cached for {series!r}",
                "field": "path.series",
            },
        )
    import pandas as pd  # the cached frame brought it in already

    frame = cached.frame.head(horizon)
    return {
        "series": series,
        "created_at": cached.created_at.isoformat(),
        "model": cached.model,
        "fallback_used": cached.fallback_used,
        "index": [pd.Timestamp(ts).isoformat() for ts in frame["ts"]],
        "mean": frame["mean"].tolist(),
        "lower": {str(level): frame[f"lo_{level}"].tolist() for level in wanted},
        "upper": {str(level): frame[f"hi_{level}"].tolist() for level in wanted},
    }


class ForecastRequest(BaseModel):
    """A regular history (oldest first) and what to forecast."""

    model_config = ConfigDict(extra="forbid")

    history: list[TimedValue] = Field(min_length=MIN_HISTORY, max_length=MAX_HISTORY)
    horizon: int = Field(default=24, ge=1, le=48)
    levels: list[int] = Field(default=[80, 95], min_length=1)

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, levels: list[int]) -> list[int]:
        if not set(levels) <= set(SUPPORTED_LEVELS):
            raise ValueError(f"expected some of {list(SUPPORTED_LEVELS)}, got {levels}")
        return sorted(set(levels))


def history_series(points: list[tuple[datetime, float]]) -> pd.Series:
    """The history as a regular series; raises ValidationError if irregular or unsorted."""
    import numpy as np
    import pandas as pd

    try:  # each time in UTC first: pandas refuses mixed offsets and years past 2262
        index = pd.DatetimeIndex([pd.Timestamp(ts.astimezone(UTC)) for ts, _ in points])
    except (ValueError, OverflowError) as exc:  # OutOfBoundsDatetime is a ValueError
        raise ValidationError(
            "body.history", f"expected times between 1677 and 2262 (pandas' range): {exc}"
        ) from exc
    steps = index[1:] - index[:-1]
    step = steps[0]
    for position, delta in enumerate(steps, start=1):
        if delta <= pd.Timedelta(0):
            raise ValidationError(
                f"body.history[{position}].ts", "expected strictly increasing times"
            )
        if delta != step:
            raise ValidationError(
                f"body.history[{position}].ts", f"irregular spacing: expected every {step}"
            )
    values = np.array([value for _, value in points], dtype=np.float64)
    regular = pd.date_range(index[0], periods=len(index), freq=step)
    return pd.Series(values, index=regular)


def _as_json(forecast: Forecast, levels: list[int]) -> dict[str, Any]:
    import pandas as pd

    return {
        "model": forecast.model,
        "fallback_used": forecast.fallback_used,
        "index": [pd.Timestamp(ts).isoformat() for ts in forecast.index],
        "mean": forecast.mean.tolist(),
        "lower": {str(level): forecast.lower[level].tolist() for level in levels},
        "upper": {str(level): forecast.upper[level].tolist() for level in levels},
    }


def fit_forecast(
    points: list[tuple[datetime, float]], horizon: int, levels: list[int]
) -> dict[str, Any]:
    """The answer to a forecast request; runs in a compute worker process."""
    from selfheal_ml.forecast.registry import default_forecaster

    history = history_series(points)
    forecast = default_forecaster().fit(history).forecast(horizon, tuple(levels))
    answer = _as_json(forecast, levels)
    numbers = [
        *answer["mean"],
        *(v for side in ("lower", "upper") for s in answer[side].values() for v in s),
    ]
    if not all(math.isfinite(number) for number in numbers):
        # values near the float limit overflow the model: say so instead of failing to encode
        raise ValidationError("body.history", "values too large to forecast (result not finite)")
    return answer


@router.post("/v1/forecast", response_model=dict[str, Any])
async def adhoc_forecast(request: ForecastRequest, pool: ComputeDep) -> Response:
    """Forecast a history sent in the request (checked and fitted in a compute process)."""
    points = [(point.ts, point.value) for point in request.history]  # tuples pickle quickly
    body = await pool.run_isolated(fit_forecast, points, request.horizon, request.levels)
    return Response(body, media_type="application/json")
