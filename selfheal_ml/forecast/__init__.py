"""Forecasting: estimators with prediction intervals, batch fitting and capacity breaches.

The family follows scikit-learn's lifecycle and statsforecast's output. A **forecaster**
(:mod:`.base`) is built with its parameters, ``fit(y)`` learns from a series (a pandas Series
with a regular UTC DatetimeIndex, or a 1-D array) and returns itself, and
``forecast(horizon, levels=(80, 95))`` returns a :class:`Forecast`: the future ``index``, the
``mean`` and ``lower[level]`` / ``upper[level]`` bounds, plus the ``model`` that produced it
and whether the seasonal-naive fallback took over (``fallback_used``).

Models, one small module each: :class:`SeasonalNaive` (baseline and fallback),
:class:`SeasonalProfile` (recent level + mean daily or weekly shape), :class:`HoltWinters`,
:class:`MSTLForecaster` and :class:`SeasonalArima` (statsmodels; a failed or non-converged fit
hands over to seasonal naive). :class:`BacktestEnsemble` picks and combines models per series
by a rolling-origin backtest on the training data; ``default_forecaster()`` returns it. The
registry :data:`FORECASTERS` names every model for pipelines and configuration;
:func:`iter_forecasts` fits many series in worker processes. :func:`predict_breach` turns a
resource series and its limit into a :class:`BreachPrediction` only when the trend is
significant and the crossing is likely.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.forecast.base import DEFAULT_LEVELS, Forecast, Forecaster
    from selfheal_ml.forecast.batch import BatchForecast, iter_forecasts, stack_forecasts
    from selfheal_ml.forecast.capacity import BreachPrediction, predict_breach
    from selfheal_ml.forecast.decomposition import MSTLForecaster
    from selfheal_ml.forecast.ensemble import BacktestEnsemble
    from selfheal_ml.forecast.holt_winters import HoltWinters
    from selfheal_ml.forecast.naive import SeasonalNaive
    from selfheal_ml.forecast.profile import SeasonalProfile
    from selfheal_ml.forecast.registry import (
        DEFAULT_MODEL,
        FORECASTERS,
        default_forecaster,
        make_forecaster,
    )
    from selfheal_ml.forecast.sarimax import SeasonalArima

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.forecast.base": (
            "DEFAULT_LEVELS",
            "Forecast",
            "Forecaster",
        ),
        "selfheal_ml.forecast.batch": (
            "BatchForecast",
            "iter_forecasts",
            "stack_forecasts",
        ),
        "selfheal_ml.forecast.capacity": (
            "BreachPrediction",
            "predict_breach",
        ),
        "selfheal_ml.forecast.decomposition": ("MSTLForecaster",),
        "selfheal_ml.forecast.ensemble": ("BacktestEnsemble",),
        "selfheal_ml.forecast.holt_winters": ("HoltWinters",),
        "selfheal_ml.forecast.naive": ("SeasonalNaive",),
        "selfheal_ml.forecast.profile": ("SeasonalProfile",),
        "selfheal_ml.forecast.registry": (
            "DEFAULT_MODEL",
            "FORECASTERS",
            "default_forecaster",
            "make_forecaster",
        ),
        "selfheal_ml.forecast.sarimax": ("SeasonalArima",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_MODEL",
    "FORECASTERS",
    "BacktestEnsemble",
    "BatchForecast",
    "BreachPrediction",
    "Forecast",
    "Forecaster",
    "HoltWinters",
    "MSTLForecaster",
    "SeasonalArima",
    "SeasonalNaive",
    "SeasonalProfile",
    "default_forecaster",
    "iter_forecasts",
    "make_forecaster",
    "predict_breach",
    "stack_forecasts",
]
