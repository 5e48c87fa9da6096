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
from selfheal_ml.forecast.trend import TrendFit, fit_trend

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


def _aligned(covariates: pd.DataFrame, index: pd.Index) -> FloatArray | None:
    """``covariates`` at ``index``'s times (time interpolation, edges held); ``None`` when a
    column has no finite value at all or the frame has no column."""
    if covariates.shape[1] == 0:
        return None
    union = covariates.index.union(index)
    filled = covariates.reindex(union).interpolate(method="time").ffill().bfill().reindex(index)
    values = filled.to_numpy(dtype=np.float64)
    return values if np.all(np.isfinite(values)) else None


def extrapolate_crossing(
    hours: FloatArray,
    values: FloatArray,
    limit: float,
    horizon_s: float,
    step_s: float,
    significance: float,
    min_probability: float,
    covariates: FloatArray | None = None,
) -> tuple[float, float, TrendFit] | None:
    """Seconds until the trend line of rising ``values`` crosses ``limit``, the probability of
    being past it within ``horizon_s``, and the fit; None unless the three conditions of the
    module docstring hold. ``hours`` are the points' times, ``step_s`` the forecast step;
    ``covariates`` (one column each) take their share of the movement out of the trend."""
    fit = fit_trend(hours, values, covariates=covariates)
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
    covariates: pd.DataFrame | None = None,
) -> BreachPrediction | None:
    """Predict whether ``y`` crosses ``limit`` within ``horizon_s`` seconds after its end.

    ``covariates`` (columns of series that may explain ``y``'s movement, e.g. the traffic of
    the platform whose memory ``y`` is) are aligned to ``y``'s index (interpolated in time,
    edges held); the trend is then the growth they do not explain.

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
    sign = 1.0 if direction == "above" else -1.0
    step_s = float(np.median(np.diff(times_s)))
    crossing = extrapolate_crossing(
        times_s / 3600.0,
        sign * y.to_numpy(dtype=np.float64),
        sign * limit,
        horizon_s,
        step_s,
        significance,
        min_probability,
        None if covariates is None else _aligned(covariates, y.index),
    )
    if crossing is None:
        return None
    ahead_s, probability, fit = crossing
    last: datetime = y.index[-1].to_pydatetime()
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
