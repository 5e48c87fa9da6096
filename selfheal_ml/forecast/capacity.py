"""Capacity-breach prediction: when will a resource series cross its limit, and how surely?

Linear-extrapolation alerts fire on every quiet disk: any noisy flat series has *some* slope.
:func:`predict_breach` only predicts a breach when all of these hold:

1. the linear trend (least squares on time) points towards the limit and is significant,
   with Newey-West (HAC) standard errors so that autocorrelated noise does not pass for a
   trend (p-value below ``significance``);
2. the trend line crosses the limit within ``horizon_s`` (that crossing is the ETA);
3. the probability of being past the limit at some step of the horizon, from the predictive
   distribution (parameter uncertainty + residual noise, normal), reaches ``min_probability``.

The result is a :class:`BreachPrediction` the Predictive agent turns into a
``BreachPredicted`` event; ``None`` means "no credible breach". Pure: no clock, no I/O; the
"now" is the last timestamp of the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast.base import FloatArray
from selfheal_ml.forecast.trend import MIN_TREND_POINTS, TrendFit, fit_trend

MIN_POINTS = 12
DAY_S = 86_400.0


@dataclass(frozen=True)
class BreachPrediction:
    """A credible crossing of ``limit`` at ``eta`` with ``probability`` within the horizon."""

    series: str
    limit: float
    eta: datetime
    time_to_breach_s: float
    probability: float
    slope_per_hour: float
    p_value: float
    level: float = float("nan")  # the trend line at the last point
    spread: float = 0.0  # the residuals' standard deviation around the line


def _times_s(y: pd.Series) -> FloatArray:
    index = y.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        raise ValidationError("y", "expected a pandas Series with a UTC DatetimeIndex")
    if y.size < MIN_POINTS:
        raise ValidationError("y", f"too short: needs at least {MIN_POINTS} points, got {y.size}")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValidationError("y", "timestamps must be strictly increasing")
    if not np.all(np.isfinite(y.to_numpy(dtype=np.float64))):
        raise ValidationError("y", "contains NaN or infinite values")
    return np.asarray((index - index[0]).total_seconds(), dtype=np.float64)


def extrapolate_crossing(
    hours: FloatArray,
    values: FloatArray,
    limit: float,
    horizon_s: float,
    step_s: float,
    significance: float,
    min_probability: float,
) -> tuple[float, float, TrendFit] | None:
    """Seconds until the trend line of rising ``values`` crosses ``limit``, the probability of
    being past it within ``horizon_s``, and the fit; None unless the three conditions of the
    module docstring hold. ``hours`` are the points' times, ``step_s`` the forecast step."""
    fit = fit_trend(hours, values)
    if not (fit.slope > 0 and fit.slope_p_value < significance):
        return None
    future_hours = hours[-1] + np.arange(step_s, horizon_s + step_s / 2, step_s) / 3600.0
    crossed = np.flatnonzero(fit.mean(future_hours) >= limit)
    if crossed.size == 0:
        return None
    z_scores = (fit.mean(future_hours) - limit) / np.sqrt(fit.predictive_variance(future_hours))
    probability = float(NormalDist().cdf(float(np.max(z_scores))))
    if probability < min_probability:
        return None
    return float(future_hours[crossed[0]] - hours[-1]) * 3600.0, probability, fit


def predict_breach(
    y: pd.Series,
    limit: float,
    series: str = "",
    horizon_s: float = DAY_S,
    direction: Literal["above", "below"] = "above",
    significance: float = 0.01,
    min_probability: float = 0.8,
) -> BreachPrediction | None:
    """Predict whether ``y`` crosses ``limit`` within ``horizon_s`` seconds after its end.

    >>> index = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    >>> noise = np.random.default_rng(0).normal(0, 0.5, 48)
    >>> leak = pd.Series(50 + 0.5 * np.arange(48) + noise, index=index)
    >>> breach = predict_breach(leak, limit=85.0, series="memory")
    >>> round(breach.time_to_breach_s / 3600), breach.probability > 0.8
    (23, True)
    >>> flat = pd.Series(60 + noise, index=index)
    >>> predict_breach(flat, limit=85.0) is None
    True
    """
    if horizon_s <= 0:
        raise ValidationError("horizon_s", f"expected a positive duration, got {horizon_s!r}")
    times_s = _times_s(y)
    last: datetime = y.index[-1].to_pydatetime()
    return breach_of_points(
        times_s, y.to_numpy(dtype=np.float64), last, limit, series, horizon_s, direction,
        significance, min_probability,
    )  # fmt: skip


def breach_of_points(
    times_s: FloatArray,
    values: FloatArray,
    last: datetime,
    limit: float,
    series: str = "",
    horizon_s: float = DAY_S,
    direction: Literal["above", "below"] = "above",
    significance: float = 0.01,
    min_probability: float = 0.8,
) -> BreachPrediction | None:
    """:func:`predict_breach` on plain arrays: ``times_s`` (seconds, increasing) and
    ``values`` of the points, ``last`` the time of the last point. No pandas: the Predictive
    agent's short look calls it for every memory and disk series every check."""
    if values.size < MIN_TREND_POINTS or times_s.size != values.size:
        return None
    sign = 1.0 if direction == "above" else -1.0
    step_s = float(np.median(np.diff(times_s)))
    crossing = extrapolate_crossing(
        times_s / 3600.0, sign * values, sign * limit, horizon_s, step_s, significance,
        min_probability,
    )  # fmt: skip
    if crossing is None:
        return None
    ahead_s, probability, fit = crossing
    return BreachPrediction(
        series=series,
        limit=limit,
        eta=last + timedelta(seconds=ahead_s),
        time_to_breach_s=ahead_s,
        probability=probability,
        slope_per_hour=sign * fit.slope,
        p_value=fit.slope_p_value,
        level=sign * float(fit.mean(times_s[-1:] / 3600.0)[0]),
        spread=float(np.sqrt(max(fit.scale, 0.0))),
    )
