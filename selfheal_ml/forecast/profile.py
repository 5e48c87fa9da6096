"""Seasonal profile: the recent level plus the average shape of the last few seasons.

A cheap, robust forecaster in the spirit of classical decomposition. In the working space
(log when every value is positive) the series is detrended by a centred 2x24 moving average;
the seasonal profile is the mean (or median) of the detrended values at each position over the
last ``cycles`` seasons of ``period`` steps; the level is the mean seasonally adjusted value of
the last ``level_window`` steps. Forecast = level + profile. With ``period=168`` it captures
weekly shapes (weekday vs weekend) that a daily model cannot; with ``period=24`` and a median
over a week of days it is a denoised seasonal naive. No optimiser runs, so it never fails to
converge and costs well under a millisecond per series.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast.base import FloatArray, Forecaster, ModelOutput
from selfheal_ml.forecast.intervals import inverse_transform, normal_bounds, transform, use_log

DAY = 24


def centred_moving_average(values: FloatArray, width: int = DAY) -> FloatArray:
    """2 x ``width`` centred moving average (even width), ends padded with the edge values.

    >>> centred_moving_average(np.arange(8.0), width=2).tolist()
    [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0]
    """
    if values.size <= width:
        return np.full(values.size, values.mean())
    weights = np.ones(width + 1)
    weights[0] = weights[-1] = 0.5
    smooth = np.convolve(values, weights / width, mode="valid")
    half = width // 2
    return np.concatenate([np.full(half, smooth[0]), smooth, np.full(half, smooth[-1])])


class SeasonalProfile(Forecaster):
    """Recent level + mean shape of the last ``cycles`` seasons of ``period`` steps.

    >>> hours = np.arange(24 * 14)
    >>> y = 50 + 10 * np.sin(2 * np.pi * hours / 24)
    >>> model = SeasonalProfile(period=24, cycles=7).fit(y)
    >>> bool(np.allclose(model.forecast(24).mean, y[-24:], atol=0.5))
    True
    """

    name = "seasonal_profile"

    def __init__(
        self,
        period: int = 168,
        cycles: int = 3,
        aggregate: Literal["mean", "median"] = "mean",
        level_window: int = DAY,
        log: bool | None = None,
    ) -> None:
        self.period = period
        self.cycles = cycles
        self.aggregate = aggregate
        self.level_window = level_window
        self.log = log

    def _fit_values(self, values: FloatArray) -> None:
        for name in ("period", "cycles", "level_window"):
            if getattr(self, name) < 1:
                raise ValidationError(
                    name, f"expected a positive integer, got {getattr(self, name)!r}"
                )
        self.log_ = use_log(values, self.log)
        working = transform(values, self.log_)
        period = min(self.period, working.size)
        cycles = max(1, min(self.cycles, working.size // period))
        detrended = working - centred_moving_average(working, period + period % 2)
        blocks = detrended[working.size - cycles * period :].reshape(cycles, period)
        profile = np.median(blocks, axis=0) if self.aggregate == "median" else blocks.mean(axis=0)
        self.profile_ = profile - profile.mean()
        adjusted = working[working.size - cycles * period :] - np.tile(self.profile_, cycles)
        self.level_ = float(adjusted[-self.level_window :].mean())
        residuals = adjusted - centred_moving_average(adjusted)
        self.sigma_ = float(np.std(residuals))
        self.period_ = period

    def _forecast_values(self, horizon: int, levels: tuple[int, ...]) -> ModelOutput:
        mean = self.level_ + self.profile_[np.arange(horizon) % self.period_]
        growth = np.sqrt(1.0 + np.arange(horizon) / self.period_)
        lower, upper = normal_bounds(mean, self.sigma_ * growth, levels)
        return ModelOutput(
            mean=inverse_transform(mean, self.log_),
            lower={level: inverse_transform(bound, self.log_) for level, bound in lower.items()},
            upper={level: inverse_transform(bound, self.log_) for level, bound in upper.items()},
            model=f"{self.name}_{self.period}",
        )
