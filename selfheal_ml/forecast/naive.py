"""Seasonal naive, and the fallback machinery every statsmodels forecaster uses.

:class:`SeasonalNaive` repeats the last observed season (``period`` steps; the last value when
the history is shorter). Its intervals follow the usual seasonal-naive error model: the
standard deviation of the in-sample seasonal differences, times ``sqrt(k + 1)`` where ``k`` is
the number of whole seasons between the forecast step and the data.

:class:`FallbackForecaster` is the base of the statsmodels models: when their fit raises,
emits a ``ConvergenceWarning`` or yields non-finite numbers, a :class:`SeasonalNaive` takes
over and the :class:`~selfheal_ml.forecast.base.Forecast` says so (``fallback_used=True``).
"""

from __future__ import annotations

import warnings
from abc import abstractmethod

import numpy as np

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast.base import FloatArray, Forecaster, ModelOutput
from selfheal_ml.forecast.intervals import normal_bounds

HOURLY_PERIOD = 24


def repeat_season(values: FloatArray, period: int, horizon: int) -> FloatArray:
    """The last ``period`` values repeated over ``horizon`` steps.

    >>> repeat_season(np.array([1.0, 2.0, 3.0, 4.0]), 2, 3).tolist()
    [3.0, 4.0, 3.0]
    """
    period = max(1, min(period, values.size))
    return np.asarray(values[values.size - period + np.arange(horizon) % period], dtype=np.float64)


class SeasonalNaive(Forecaster):
    """Repeat the last season; the baseline and the fallback of every other model.

    >>> model = SeasonalNaive(period=2).fit(np.array([1.0, 5.0, 1.0, 5.0, 1.0, 5.0]))
    >>> model.forecast(3, levels=[80]).mean.tolist()
    [1.0, 5.0, 1.0]
    """

    name = "seasonal_naive"
    min_length = 1

    def __init__(self, period: int = HOURLY_PERIOD) -> None:
        self.period = period

    def _fit_values(self, values: FloatArray) -> None:
        if self.period < 1:
            raise ValidationError("period", f"expected a positive integer, got {self.period!r}")
        self.values_ = values
        lag = self.period if values.size > self.period else 1
        differences = values[lag:] - values[:-lag]
        self.sigma_ = float(np.std(differences)) if differences.size > 1 else 0.0
        self.lag_ = lag

    def _forecast_values(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        mean = repeat_season(self.values_, self.lag_, horizon)
        seasons_ahead = np.arange(horizon) // self.lag_
        lower, upper = normal_bounds(mean, self.sigma_ * np.sqrt(seasons_ahead + 1.0), levels)
        return ModelOutput(mean=mean, lower=lower, upper=upper, model=self.name)


class FitFailedError(RuntimeError):
    """A model could not be fitted (raised inside ``_fit_model`` to request the fallback)."""


class FallbackForecaster(Forecaster):
    """A model that hands over to :class:`SeasonalNaive` when its fit fails or diverges."""

    fallback_period: int = HOURLY_PERIOD

    def _fit_values(self, values: FloatArray) -> None:
        self.fallback_ = SeasonalNaive(self.fallback_period).fit(values)
        self.fit_error_: str | None = None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fit_model(values)
        except (FitFailedError, ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            self.fit_error_ = f"{type(error).__name__}: {error}"
            return
        not_converged = [item for item in caught if "Convergence" in item.category.__name__]
        if not_converged:
            self.fit_error_ = f"did not converge: {not_converged[0].message}"

    def _forecast_values(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        if self.fit_error_ is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                forecast = self._forecast_model(horizon, levels)
            bounds = [*forecast.lower.values(), *forecast.upper.values(), forecast.mean]
            if all(np.all(np.isfinite(bound)) for bound in bounds):
                return forecast
            self.fit_error_ = "non-finite forecast"
        fallback = self.fallback_._forecast_values(horizon, levels)
        return ModelOutput(
            mean=fallback.mean,
            lower=fallback.lower,
            upper=fallback.upper,
            model=f"{self.name}->{fallback.model}",
            fallback_used=True,
            details={"error": self.fit_error_},
        )

    @abstractmethod
    def _fit_model(self, values: FloatArray) -> None:
        """Fit the real model; raise (or warn ConvergenceWarning) to request the fallback."""

    @abstractmethod
    def _forecast_model(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        """Forecast with the real model (working space mapped back to values)."""
