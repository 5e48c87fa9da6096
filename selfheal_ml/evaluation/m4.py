"""M4 competition accuracy measures: sMAPE, MASE, the Naive2 benchmark, OWA and coverage.

The M4 competition (Makridakis et al., 2020) ranks point forecasts by the Overall Weighted
Average (OWA) of two measures, each taken relative to the ``Naive2`` benchmark:

- ``sMAPE`` = 200/h * sum |y - f| / (|y| + |f|)  (percent, 0..200);
- ``MASE`` = mean |y - f| / scale, where ``scale`` is the in-sample mean absolute seasonal
  difference at the seasonal period (24 for hourly data);
- ``Naive2`` = the last value of the seasonally adjusted history, re-seasonalised, where the
  adjustment is a classical multiplicative decomposition (centred 2x24 moving average, mean
  ratio per season position, indices normalised to mean 1) applied only when the
  ``seasonality_test`` (a 90 % test on the lag-``period`` autocorrelation) says seasonal;
- ``OWA`` = (mean sMAPE / mean sMAPE_Naive2 + mean MASE / mean MASE_Naive2) / 2, the means
  taken over all series, so Naive2 scores exactly 1.

Everything here is pure numpy on arrays: the pipeline reads the CSV files and passes rows in,
so notebooks and tests share the same definitions. ``coverage`` is the share of actuals
inside a prediction interval (an 80 % interval should cover about 80 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from selfheal_ml.errors import ValidationError

FloatArray = NDArray[np.float64]

HOURLY_PERIOD = 24
SEASONALITY_Z_90 = 1.645


def _as_vector(values: ArrayLike, field: str) -> FloatArray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.ndim != 1 or vector.size == 0:
        raise ValidationError(field, f"expected a non-empty 1-D array, got shape {vector.shape}")
    return vector


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE in percent (0..200); a step where both are 0 counts as 0 error.

    >>> round(smape([100.0, 100.0], [110.0, 90.0]), 4)
    10.0251
    """
    actual_vector = _as_vector(actual, "actual")
    forecast_vector = _as_vector(forecast, "forecast")
    denominator = np.abs(actual_vector) + np.abs(forecast_vector)
    ratio = np.divide(
        np.abs(actual_vector - forecast_vector),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(200.0 * ratio.mean())


def mase_scale(history: ArrayLike, period: int = HOURLY_PERIOD) -> float:
    """In-sample mean absolute seasonal difference (the MASE denominator).

    >>> mase_scale([1.0, 2.0, 4.0, 7.0], period=1)
    2.0
    """
    history_vector = _as_vector(history, "history")
    if history_vector.size <= period:
        raise ValidationError(
            "history", f"needs more than {period} values, got {history_vector.size}"
        )
    return float(np.mean(np.abs(history_vector[period:] - history_vector[:-period])))


def mase(
    history: ArrayLike, actual: ArrayLike, forecast: ArrayLike, period: int = HOURLY_PERIOD
) -> float:
    """Mean absolute scaled error: forecast MAE over the in-sample seasonal-naive MAE.

    >>> mase([1.0, 2.0, 4.0, 7.0], [8.0, 9.0], [9.0, 9.0], period=1)
    0.25
    """
    errors = np.abs(_as_vector(actual, "actual") - _as_vector(forecast, "forecast"))
    scale = mase_scale(history, period)
    if scale == 0.0:
        raise ValidationError("history", "is constant at the seasonal lag, MASE is undefined")
    return float(errors.mean() / scale)


def autocorrelation(values: FloatArray, lag: int) -> float:
    """Sample autocorrelation at ``lag`` (mean-centred, divided by the total sum of squares)."""
    centred = values - values.mean()
    total = float(np.sum(centred**2))
    if total == 0.0:
        return 0.0
    return float(np.sum(centred[lag:] * centred[:-lag]) / total)


def seasonality_test(history: ArrayLike, period: int = HOURLY_PERIOD) -> bool:
    """The M4 90 % test: is |acf(period)| above 1.645 * sqrt((1 + 2 sum acf(k)^2, k<period) / n)?

    Series shorter than three seasons are never called seasonal (as in the M4 code).

    >>> hours = np.arange(24 * 10)
    >>> seasonality_test(10 + np.sin(2 * np.pi * hours / 24))
    True
    >>> seasonality_test(np.random.default_rng(1).normal(10, 1, 240))
    False
    """
    values = _as_vector(history, "history")
    if values.size < 3 * period:
        return False
    correlations = np.array([autocorrelation(values, lag) for lag in range(1, period + 1)])
    spread = 1.0 + 2.0 * float(np.sum(correlations[: period - 1] ** 2))
    limit = SEASONALITY_Z_90 * np.sqrt(spread / values.size)
    return bool(abs(correlations[period - 1]) > limit)


def seasonal_indices(history: ArrayLike, period: int = HOURLY_PERIOD) -> FloatArray:
    """Classical multiplicative seasonal indices (mean 1), position 0 = the first observation.

    Returns ones when :func:`seasonality_test` says the series is not seasonal.

    >>> pattern = np.tile([1.0, 2.0, 3.0, 2.0], 6)
    >>> np.round(seasonal_indices(pattern, period=4), 3).tolist()
    [0.5, 1.0, 1.5, 1.0]
    """
    values = _as_vector(history, "history")
    if not seasonality_test(values, period):
        return np.ones(period)
    weights = np.ones(period + 1) if period % 2 == 0 else np.ones(period)
    if period % 2 == 0:
        weights[0] = weights[-1] = 0.5
    weights /= period
    half = weights.size // 2
    trend = np.full(values.size, np.nan)
    trend[half : values.size - half] = np.convolve(values, weights, mode="valid")
    ratios = values / trend
    positions = np.arange(values.size) % period
    indices = np.array([np.nanmean(ratios[positions == position]) for position in range(period)])
    return np.asarray(indices / indices.mean(), dtype=np.float64)


def naive2(history: ArrayLike, horizon: int, period: int = HOURLY_PERIOD) -> FloatArray:
    """The M4 Naive2 benchmark: last seasonally adjusted value, re-seasonalised.

    >>> pattern = np.tile([1.0, 2.0, 3.0, 2.0], 6)
    >>> naive2(pattern, 5, period=4).round(3).tolist()
    [1.0, 2.0, 3.0, 2.0, 1.0]
    """
    values = _as_vector(history, "history")
    if horizon < 1:
        raise ValidationError("horizon", f"expected a positive integer, got {horizon}")
    indices = seasonal_indices(values, period)
    positions = np.arange(values.size + horizon) % period
    level = values[-1] / indices[positions[values.size - 1]]
    return np.asarray(level * indices[positions[values.size :]], dtype=np.float64)


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values inside the closed interval [lower, upper].

    >>> coverage([1.0, 2.0, 3.0, 4.0], [0.0, 2.5, 2.0, 4.0], [2.0, 3.0, 3.5, 5.0])
    0.75
    """
    actual_vector = _as_vector(actual, "actual")
    inside = (actual_vector >= _as_vector(lower, "lower")) & (
        actual_vector <= _as_vector(upper, "upper")
    )
    return float(inside.mean())


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    """Dataset-level M4 measures of one model over the first ``horizon`` steps."""

    horizon: int
    smape: float
    mase: float
    owa: float
    naive2_smape: float
    naive2_mase: float
    coverage: Mapping[int, float]

    def as_metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat ``name -> value`` mapping for MLflow (``smape_h48``, ``coverage80_h48``...)."""
        suffix = f"_h{self.horizon}"
        metrics = {
            f"{prefix}smape{suffix}": self.smape,
            f"{prefix}mase{suffix}": self.mase,
            f"{prefix}owa{suffix}": self.owa,
        }
        for level, share in self.coverage.items():
            metrics[f"{prefix}coverage{level}{suffix}"] = share
        return metrics


def evaluate_m4(
    histories: Sequence[FloatArray],
    actuals: FloatArray,
    forecasts: FloatArray,
    intervals: Mapping[int, tuple[FloatArray, FloatArray]] | None = None,
    horizon: int | None = None,
    period: int = HOURLY_PERIOD,
) -> AccuracyReport:
    """sMAPE, MASE, OWA (vs Naive2) and coverage over all series for the first ``horizon`` steps.

    ``actuals`` and ``forecasts`` are ``(series, steps)`` arrays; ``intervals`` maps a level to
    ``(lower, upper)`` arrays of the same shape.
    """
    steps = actuals.shape[1] if horizon is None else horizon
    if forecasts.shape != actuals.shape or not 1 <= steps <= actuals.shape[1]:
        raise ValidationError("forecasts", f"shape {forecasts.shape} vs actuals {actuals.shape}")
    model_smape, model_mase, base_smape, base_mase = [], [], [], []
    for row, history in enumerate(histories):
        actual, forecast = actuals[row, :steps], forecasts[row, :steps]
        benchmark = naive2(history, steps, period)
        model_smape.append(smape(actual, forecast))
        model_mase.append(mase(history, actual, forecast, period))
        base_smape.append(smape(actual, benchmark))
        base_mase.append(mase(history, actual, benchmark, period))
    mean_smape, mean_mase = float(np.mean(model_smape)), float(np.mean(model_mase))
    naive2_smape, naive2_mase = float(np.mean(base_smape)), float(np.mean(base_mase))
    shares = {
        level: coverage(actuals[:, :steps].ravel(), low[:, :steps].ravel(), high[:, :steps].ravel())
        for level, (low, high) in (intervals or {}).items()
    }
    return AccuracyReport(
        horizon=steps,
        smape=mean_smape,
        mase=mean_mase,
        owa=0.5 * (mean_smape / naive2_smape + mean_mase / naive2_mase),
        naive2_smape=naive2_smape,
        naive2_mase=naive2_mase,
        coverage=shares,
    )
