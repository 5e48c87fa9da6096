"""Regression with ARMA errors (statsmodels SARIMAX) and Fourier terms for the daily season.

:class:`SeasonalArima` fits ``SARIMAX(order)`` with a constant and ``harmonics`` sine/cosine
pairs of period ``period`` as regressors, by state-space maximum likelihood, to the last
``window`` steps of the working series (log when every value is positive). Fourier terms
instead of a seasonal ARIMA part keep the state small: a seasonal MA at lag 24 makes each fit
take seconds. Its intervals are the model's own (``get_forecast().conf_int``). It is still the
slowest model here, which is why it is in the registry but not in the default ensemble. A
failed or non-converged likelihood optimisation hands over to seasonal naive.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX

from selfheal_ml.forecast.base import FloatArray, ModelOutput
from selfheal_ml.forecast.intervals import inverse_transform, transform, use_log
from selfheal_ml.forecast.naive import FallbackForecaster, FitFailedError


def fourier_terms(start: int, steps: int, period: int, harmonics: int) -> FloatArray:
    """``steps`` rows of ``sin, cos(2 pi k t / period)``, k = 1..harmonics, from time ``start``.

    >>> fourier_terms(0, 2, 4, 1).round(3).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    times = np.arange(start, start + steps)[:, None] * np.arange(1, harmonics + 1)[None, :]
    angles = 2 * np.pi * times / period
    return np.asarray(np.column_stack([np.sin(angles), np.cos(angles)]), dtype=np.float64)


class SeasonalArima(FallbackForecaster):
    """statsmodels SARIMAX: ARMA errors around a constant plus daily Fourier terms.

    >>> hours = np.arange(24 * 8)
    >>> noise = np.random.default_rng(0).normal(0, 1, hours.size)
    >>> y = 100 + 20 * np.sin(2 * np.pi * hours / 24) + noise
    >>> forecast = SeasonalArima().fit(y).forecast(24, levels=[80])
    >>> forecast.fallback_used, bool(np.abs(forecast.mean - y[-24:]).mean() < 5)
    (False, True)
    """

    name = "sarimax"
    min_length = 2

    def __init__(
        self,
        order: tuple[int, int, int] = (2, 0, 1),
        period: int = 24,
        harmonics: int = 4,
        window: int = 336,
        log: bool | None = None,
    ) -> None:
        self.order = order
        self.period = period
        self.harmonics = harmonics
        self.window = window
        self.log = log

    def _fit_model(self, values: FloatArray) -> None:
        recent = values[-self.window :]
        needed = 2 * self.period + sum(self.order) + 2
        if recent.size < needed:
            raise FitFailedError(f"needs {needed} values, got {recent.size}")
        self.log_ = use_log(recent, self.log)
        self.size_ = recent.size
        model = SARIMAX(
            transform(recent, self.log_),
            exog=fourier_terms(0, recent.size, self.period, self.harmonics),
            order=self.order,
            trend="c",
        )
        self.results_ = model.fit(disp=False)
        if not self.results_.mle_retvals.get("converged", True):
            raise FitFailedError("likelihood optimisation did not converge")

    def _forecast_model(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        future = fourier_terms(self.size_, horizon, self.period, self.harmonics)
        prediction = self.results_.get_forecast(horizon, exog=future)
        mean = np.asarray(prediction.predicted_mean, dtype=np.float64)
        lower, upper = {}, {}
        for level in levels:
            bounds = np.asarray(prediction.conf_int(alpha=1 - level / 100), dtype=np.float64)
            lower[level] = inverse_transform(bounds[:, 0], self.log_)
            upper[level] = inverse_transform(bounds[:, 1], self.log_)
        return ModelOutput(
            mean=inverse_transform(mean, self.log_),
            lower=lower,
            upper=upper,
            model=self.name,
        )
