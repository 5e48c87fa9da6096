"""MSTL decomposition with exponential smoothing on the seasonally adjusted series.

:class:`MSTLForecaster` splits the working series (log when every value is positive) with
statsmodels ``MSTL`` into a daily (24) and a weekly (168) season plus trend and remainder; a
season is used only when the history holds two of its cycles (more than two when it joins
another season: MSTL's rule), and with one season it is plain ``STL``. Each season is forecast
by repeating its last cycle; the seasonally adjusted series (trend + remainder, last ``window``
steps) is forecast by statsmodels exponential smoothing: simple (``trend=False``) or with a
damped additive trend. This is the statsforecast ``MSTL`` recipe. One decomposition pass and one
inner STL iteration keep it around 20 ms per series; intervals come from the ETS error formula
on the smoothing fit.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.seasonal import MSTL, STL

from selfheal_ml.forecast.base import FloatArray, ModelOutput
from selfheal_ml.forecast.holt_winters import fitted_ets_sigmas, smoothing_forecast
from selfheal_ml.forecast.intervals import inverse_transform, normal_bounds, transform, use_log
from selfheal_ml.forecast.naive import FallbackForecaster, FitFailedError, repeat_season


def seasonal_components(working: FloatArray, periods: tuple[int, ...]) -> dict[int, FloatArray]:
    """MSTL (or STL for one period) seasonal components, keyed by period."""
    if len(periods) == 1:
        return {periods[0]: np.asarray(STL(working, period=periods[0]).fit().seasonal)}
    result = MSTL(working, periods=periods, iterate=1, stl_kwargs={"inner_iter": 1}).fit()
    seasonal = np.asarray(result.seasonal, dtype=np.float64)
    return {period: seasonal[:, column] for column, period in enumerate(periods)}


class MSTLForecaster(FallbackForecaster):
    """Daily + weekly MSTL seasons, exponential smoothing on the rest.

    >>> hours = np.arange(24 * 21)
    >>> y = 100 + 20 * np.sin(2 * np.pi * hours / 24) + 10 * (hours % 168 >= 120)
    >>> forecast = MSTLForecaster().fit(y).forecast(48, levels=[80])
    >>> forecast.model, bool(np.abs(forecast.mean - y[-168:-120]).mean() < 3)
    ('mstl_ses', True)
    """

    name = "mstl"
    min_length = 2

    def __init__(
        self,
        periods: tuple[int, ...] = (24, 168),
        trend: bool = False,
        window: int | None = None,
        log: bool | None = None,
    ) -> None:
        self.periods = periods
        self.trend = trend
        self.window = window
        self.log = log

    def _fit_model(self, values: FloatArray) -> None:
        usable = tuple(period for period in self.periods if values.size >= 2 * period)
        if len(usable) > 1:  # MSTL drops (with a warning) a period half the series or longer
            usable = tuple(period for period in usable if period < values.size / 2) or usable[:1]
        if not usable:
            raise FitFailedError(f"needs two cycles of {min(self.periods)}, got {values.size}")
        self.log_ = use_log(values, self.log)
        working = transform(values, self.log_)
        self.seasons_ = seasonal_components(working, usable)
        adjusted = working - sum(self.seasons_.values())
        adjusted = adjusted[-self.window :] if self.window else adjusted
        smoother = ExponentialSmoothing(
            adjusted,
            trend="add" if self.trend else None,
            damped_trend=self.trend,
            initialization_method="estimated",
        )
        self.results_ = smoother.fit(use_brute=False)
        self.residuals_ = np.asarray(adjusted - self.results_.fittedvalues, dtype=np.float64)

    def _forecast_model(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        seasonal = sum(
            (repeat_season(season, period, horizon) for period, season in self.seasons_.items()),
            start=np.zeros(horizon),
        )
        mean = smoothing_forecast(self.results_, horizon) + seasonal
        sigmas = fitted_ets_sigmas(self.results_, self.residuals_, horizon, period=1)
        lower, upper = normal_bounds(mean, sigmas, levels)
        return ModelOutput(
            mean=inverse_transform(mean, self.log_),
            lower={level: inverse_transform(bound, self.log_) for level, bound in lower.items()},
            upper={level: inverse_transform(bound, self.log_) for level, bound in upper.items()},
            model=f"{self.name}_{'damped' if self.trend else 'ses'}",
        )
