"""Holt-Winters exponential smoothing (statsmodels) with daily or weekly seasonality.

:class:`HoltWinters` wraps ``statsmodels.tsa.holtwinters.ExponentialSmoothing``: additive
(damped) trend and additive season of ``seasonal_period`` steps (24 = daily, 168 = weekly on
hourly data), in log space when every value is positive, which makes the season
multiplicative. Only the last ``window`` steps are used: older data changes the answer little
and costs optimiser time. Intervals use the ETS(A,Ad,A) variance formula
(Hyndman et al., *Forecasting with Exponential Smoothing*, 2008, table 6.1) with the fitted
smoothing parameters and the residual standard deviation. A failed or non-converged fit hands
over to the seasonal-naive fallback.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from selfheal_ml.forecast.base import FloatArray, ModelOutput
from selfheal_ml.forecast.intervals import inverse_transform, normal_bounds, transform, use_log
from selfheal_ml.forecast.naive import FallbackForecaster, FitFailedError


def ets_step_sigmas(
    sigma: float,
    horizon: int,
    alpha: float,
    beta: float = 0.0,
    phi: float = 1.0,
    gamma: float = 0.0,
    period: int = 1,
) -> FloatArray:
    """Standard deviation of the h-step error of an additive ETS model, h = 1..horizon.

    ``var_h = sigma^2 * (1 + sum_{j<h} c_j^2)`` with
    ``c_j = alpha (1 + beta phi_j) + gamma [j % m == 0]`` and ``phi_j = phi + ... + phi^j``
    (``beta`` is the trend smoothing relative to alpha).

    >>> ets_step_sigmas(1.0, 3, alpha=0.5).round(3).tolist()
    [1.0, 1.118, 1.225]
    """
    steps = np.arange(1, horizon)
    damped_sums = np.cumsum(phi ** np.arange(1, horizon)) if horizon > 1 else np.zeros(0)
    seasonal = gamma * (steps % period == 0) if period > 1 else np.zeros(steps.size)
    weights = alpha * (1.0 + beta * damped_sums) + seasonal
    variance = 1.0 + np.concatenate([[0.0], np.cumsum(weights**2)])
    return np.asarray(sigma * np.sqrt(variance), dtype=np.float64)


def fitted_ets_sigmas(
    results: object, residuals: FloatArray, horizon: int, period: int
) -> FloatArray:
    """:func:`ets_step_sigmas` from a statsmodels ``HoltWintersResults``."""
    params = getattr(results, "params", {})

    def parameter(name: str, default: float) -> float:
        value = params.get(name)
        return float(value) if value is not None and np.isfinite(value) else default

    return ets_step_sigmas(
        float(np.std(residuals)),
        horizon,
        alpha=parameter("smoothing_level", 0.0),
        beta=parameter("smoothing_trend", 0.0),
        phi=parameter("damping_trend", 1.0),
        gamma=parameter("smoothing_seasonal", 0.0),
        period=period,
    )


def smoothing_forecast(results: Any, horizon: int) -> FloatArray:
    """Level + damped trend forecast of a non-seasonal statsmodels smoothing fit.

    Computed from the final states, which is several times faster than ``results.forecast``.
    """
    params = results.params
    level = float(np.asarray(results.level)[-1])
    trend_states = results.trend
    if trend_states is None or not np.isfinite(params.get("smoothing_trend", np.nan)):
        return np.full(horizon, level)
    phi = params.get("damping_trend", 1.0)
    phi = 1.0 if phi is None or not np.isfinite(phi) else float(phi)
    slope = float(np.asarray(trend_states)[-1])
    return np.asarray(level + slope * np.cumsum(phi ** np.arange(1, horizon + 1)), dtype=np.float64)


class HoltWinters(FallbackForecaster):
    """statsmodels Holt-Winters: damped additive trend, additive season (multiplicative in log).

    >>> hours = np.arange(24 * 10)
    >>> noise = np.random.default_rng(0).normal(0, 1, hours.size)
    >>> y = 100 + 20 * np.sin(2 * np.pi * hours / 24) + noise
    >>> forecast = HoltWinters(seasonal_period=24).fit(y).forecast(24, levels=[80])
    >>> forecast.fallback_used, bool(np.abs(forecast.mean - y[-24:]).mean() < 5)
    (False, True)
    """

    name = "holt_winters"
    min_length = 2

    def __init__(
        self,
        seasonal_period: int = 24,
        trend: bool = True,
        damped: bool = True,
        window: int | None = 672,
        log: bool | None = None,
    ) -> None:
        self.seasonal_period = seasonal_period
        self.trend = trend
        self.damped = damped
        self.window = window
        self.log = log

    def _fit_model(self, values: FloatArray) -> None:
        recent = values[-self.window :] if self.window else values
        if recent.size < 2 * self.seasonal_period + 2:
            raise FitFailedError(f"needs {2 * self.seasonal_period + 2} values, got {recent.size}")
        self.log_ = use_log(recent, self.log)
        working = transform(recent, self.log_)
        model = ExponentialSmoothing(
            working,
            trend="add" if self.trend else None,
            damped_trend=self.trend and self.damped,
            seasonal="add",
            seasonal_periods=self.seasonal_period,
            initialization_method="estimated",
        )
        self.results_ = model.fit()
        self.residuals_ = np.asarray(working - self.results_.fittedvalues, dtype=np.float64)

    def _forecast_model(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        mean = np.asarray(self.results_.forecast(horizon), dtype=np.float64)
        sigmas = fitted_ets_sigmas(self.results_, self.residuals_, horizon, self.seasonal_period)
        lower, upper = normal_bounds(mean, sigmas, levels)
        return ModelOutput(
            mean=inverse_transform(mean, self.log_),
            lower={level: inverse_transform(bound, self.log_) for level, bound in lower.items()},
            upper={level: inverse_transform(bound, self.log_) for level, bound in upper.items()},
            model=f"{self.name}_{self.seasonal_period}",
        )
