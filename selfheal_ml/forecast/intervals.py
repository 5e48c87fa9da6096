"""Prediction intervals and the log transform shared by the forecasters.

Two kinds of intervals: *normal* ones from a per-step standard deviation (what the model's
error formula says) and *empirical* ones from residual quantiles of a rolling-origin backtest
(what the model actually got wrong on the training data). Both are computed in the model's
working space (log or raw) and mapped back with :func:`inverse_transform`.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def use_log(values: FloatArray, log: bool | None) -> bool:
    """Whether to model ``log(values)``: ``None`` means "when every value is positive".

    >>> use_log(np.array([1.0, 2.0]), None), use_log(np.array([0.0, 2.0]), None)
    (True, False)
    """
    if log is None:
        return bool(np.all(values > 0.0))
    return log


def transform(values: FloatArray, log: bool) -> FloatArray:
    """Into the working space (log or identity).

    In log space, values at or below zero (a member forecasting a positive series below zero)
    are floored at the smallest positive float, so they cost a large residual, not a NaN.
    """
    if log:
        return np.log(np.maximum(values, np.finfo(np.float64).tiny))
    return values.astype(np.float64, copy=True)


def inverse_transform(values: FloatArray, log: bool) -> FloatArray:
    """Back from the working space; exp is clipped so a wild model cannot overflow."""
    return np.exp(np.clip(values, -700.0, 700.0)) if log else values


def z_score(level: int) -> float:
    """Two-sided standard-normal quantile for a central ``level`` % interval.

    >>> round(z_score(95), 3)
    1.96
    """
    return NormalDist().inv_cdf(0.5 + level / 200.0)


def normal_bounds(
    mean: FloatArray, step_sigmas: FloatArray, levels: Iterable[int]
) -> tuple[dict[int, FloatArray], dict[int, FloatArray]]:
    """``mean -/+ z * sigma_h`` per level (all in working space)."""
    lower = {level: mean - z_score(level) * step_sigmas for level in levels}
    upper = {level: mean + z_score(level) * step_sigmas for level in levels}
    return lower, upper


def empirical_bounds(
    mean: FloatArray,
    residuals: FloatArray,
    levels: Iterable[int],
    widen: float = 1.0,
    min_steps: int = 12,
) -> tuple[dict[int, FloatArray], dict[int, FloatArray]]:
    """``mean`` plus residual quantiles (actual - forecast), spread around their median.

    ``residuals`` is a ``(windows, steps)`` matrix from a backtest. Forecast step ``k`` pools
    the residuals of steps ``1..max(k, min_steps)`` (later steps reuse every column), so
    intervals widen with the horizon as the backtest errors did; ``widen`` scales the spread.

    >>> residuals = np.array([[-2.0, -1.0, 0.0, 1.0, 2.0]])
    >>> low, high = empirical_bounds(np.zeros(2), residuals, [50], min_steps=5)
    >>> low[50].tolist(), high[50].tolist()
    ([-1.0, -1.0], [1.0, 1.0])
    """
    steps = mean.size
    lower = {level: np.empty(steps) for level in levels}
    upper = {level: np.empty(steps) for level in levels}
    for step in range(steps):
        pooled = residuals[:, : max(step + 1, min_steps)].ravel()
        pooled = pooled[np.isfinite(pooled)]
        if pooled.size == 0:
            pooled = np.zeros(1)
        center = float(np.median(pooled))
        for level in lower:
            tail = (100 - level) / 200.0
            low, high = np.quantile(pooled, [tail, 1.0 - tail])
            lower[level][step] = mean[step] + center + widen * (low - center)
            upper[level][step] = mean[step] + center + widen * (high - center)
    return lower, upper
