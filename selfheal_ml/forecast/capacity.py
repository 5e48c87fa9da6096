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

The *short look* for resources that accumulate (a memory leak within the hour) is here too:
:func:`traffic_share` learns how many points of a resource one request per second is worth
(over hours, where the traffic moves on its own), :func:`at_latest_traffic` takes that share
out of a short window, and :func:`short_look` extrapolates what is left only a few hours.
"""

from __future__ import annotations

import math
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


RESET_POINTS = 10.0
"""A move of a resource that accumulates (memory, disk) of more than this many points between
two 5-minute means: a reset (a restart, a crash, a clean-up) or the return from one, never
accumulation (the simulator's leak and fill add at most 1 point in 5 minutes)."""


def since_last_reset(y: pd.Series, jump: float = RESET_POINTS) -> pd.Series:
    """``y`` from the point after its last move of more than ``jump`` on: a trend is fitted on
    one regime only. Across a crash (memory at 16 % for an hour, then back at 48 %) a line
    rises steeply while nothing accumulates (held-out seed 7012: a predicted leak, a restart
    of a healthy platform).

    >>> index = pd.date_range("2026-01-13 10:00", periods=8, freq="5min", tz="UTC")
    >>> crash = pd.Series([48.0, 16.0, 16.0, 16.0, 48.0, 48.5, 48.2, 48.4], index=index)
    >>> since_last_reset(crash).tolist()
    [48.0, 48.5, 48.2, 48.4]
    >>> leak = pd.Series(50.0 + np.arange(8.0), index=index)
    >>> len(since_last_reset(leak))
    8
    """
    jumps = np.flatnonzero(np.abs(np.diff(y.to_numpy(np.float64))) > jump)
    return y if jumps.size == 0 else y.iloc[int(jumps[-1]) + 1 :]


MIN_LOOK_SHARE = 0.5
"""The shortest stretch of its window the long look fits a trend to: half. After a reset the
stretch is shorter than the window, and a line through an hour of noise that remembers ten
minutes is extrapolated a day: on the simulator's healthy memory noise (sd 1, 10 minutes),
one hour of 5-minute means predicts a breach of a limit 28 points away in 11.0 % of 600
windows, two hours in 0.8 %, three in none (``pipelines/short_regime_trends.py``). Dev seed
7023 restarted a healthy platform so: a crash restarted at 19:56, the store's newest hours
held back, and at 23:00 a line through 19:55-21:00 (6.9 points an hour)."""

LEAK_HORIZON_S = 4 * 3600.0
MIN_SHARE_POINTS = 30


def traffic_share(load: FloatArray, values: FloatArray) -> float | None:
    """How many points of a resource one request per second is worth: the least-squares slope
    of ``values`` on ``load`` (the platform's request rate at the same times), at least 0 (a
    series that shrinks with the traffic gets no negative share). ``None`` when it cannot be
    estimated: fewer than ``MIN_SHARE_POINTS`` joint points, or a traffic that never moved.

    Learn it over hours (the capacity window), not inside the short look: within 45 minutes
    the traffic's coefficient is confounded with a leak's trend.

    >>> load = np.array([10.0, 20.0, 30.0] * 10)
    >>> round(traffic_share(load, 40.0 + 0.5 * load), 6)
    0.5
    >>> traffic_share(load, 40.0 - 0.5 * load)
    0.0
    >>> traffic_share(np.full(30, 5.0), np.arange(30.0)) is None
    True
    """
    known = np.isfinite(load) & np.isfinite(values)
    load, values = load[known], values[known]
    if load.size < MIN_SHARE_POINTS or float(np.std(load)) == 0.0:
        return None
    slope = float(np.polyfit(load, values, 1)[0])
    return max(slope, 0.0)


def at_latest_traffic(values: FloatArray, load: FloatArray, share: float) -> FloatArray:
    """``values`` as they would have been had the traffic stayed at its latest level:
    ``values - share x (load - load[-1])``. ``load`` may miss rounds (NaN): a missing round
    takes the last traffic seen before it (the first rounds: the first seen); with no traffic
    at all, or no share, the values are returned unchanged.

    >>> at_latest_traffic(np.array([50.0, 52.0, 54.0]), np.array([10.0, np.nan, 14.0]), 0.5)
    array([52., 54., 54.])
    """
    finite = np.isfinite(load)
    if share <= 0.0 or not finite.any():
        return values
    held = np.empty_like(load)
    last = float(load[finite][0])
    for index, value in enumerate(load):
        last = float(value) if math.isfinite(value) else last
        held[index] = last
    adjusted: FloatArray = values - share * (held - held[-1])
    return adjusted


def short_look(
    times_s: FloatArray,
    values: FloatArray,
    load: FloatArray,
    share: float,
    last: datetime,
    limit: float,
    series: str = "",
    horizon_s: float = LEAK_HORIZON_S,
) -> BreachPrediction | None:
    """The short look at an accumulating resource: the trend of the last minutes' points
    (``times_s`` in seconds, ``values``) that the traffic (``load``, same rounds, NaN where
    a round had none; ``share`` from :func:`traffic_share`) does not explain, extrapolated
    only ``horizon_s`` ahead (a short window must not predict far). ``None``: no credible
    breach (the three conditions of the module docstring).

    >>> from datetime import timezone
    >>> minutes = np.arange(0.0, 45.0, 0.5)
    >>> leak = 60.0 + 0.2 * minutes + 0.3 * np.sin(minutes)  # 12 points an hour
    >>> flat = np.full(minutes.size, 20.0)
    >>> last = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> round(short_look(60 * minutes, leak, flat, 0.5, last, 85.0).time_to_breach_s / 3600, 1)
    1.4
    >>> busy = 20.0 + 0.4 * minutes  # the traffic explains the rise: 0.5 points per req/s
    >>> short_look(60 * minutes, 50.0 + 0.5 * busy, busy, 0.5, last, 85.0) is None
    True
    """
    adjusted = at_latest_traffic(values, load, share)
    return breach_of_points(times_s, adjusted, last, limit, series, horizon_s)
