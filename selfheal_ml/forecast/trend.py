"""A straight line through a short series, with standard errors that respect autocorrelation.

Metric noise is autocorrelated (a minute's value is close to the previous minute's), so ordinary
least-squares standard errors make any wander look like a significant trend. :func:`fit_trend`
fits ``value = intercept + slope * hours`` by least squares and estimates the parameters'
covariance with the Newey-West (HAC, Bartlett kernel) estimator, as statsmodels' ``OLS.fit(
cov_type="HAC")`` does by default (no small-sample correction; a test checks the two agree).
Written in numpy because the Predictive agent fits one line per resource series per round: a
statsmodels fit costs milliseconds, this one tens of microseconds.

Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55(3), 703-708.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erfc, sqrt

import numpy as np

from selfheal_ml.forecast.base import FloatArray

MIN_TREND_POINTS = 3


@dataclass(frozen=True)
class TrendFit:
    """A least-squares line with HAC covariance; ``scale`` is the residual variance."""

    params: FloatArray  # (intercept, slope per hour)
    covariance: FloatArray  # 2 x 2, HAC
    scale: float  # residual sum of squares / (n - 2)
    points: int

    @property
    def slope(self) -> float:
        return float(self.params[1])

    @property
    def slope_p_value(self) -> float:
        """Two-sided p-value of the slope (normal reference, as statsmodels uses for HAC)."""
        error = sqrt(max(float(self.covariance[1, 1]), 0.0))
        if error == 0.0:
            return 0.0 if self.slope != 0.0 else 1.0
        return erfc(abs(self.slope / error) / sqrt(2.0))

    def predictive_variance(self, hours: FloatArray) -> FloatArray:
        """Variance of a new observation at ``hours``: the line's uncertainty plus the noise."""
        design = np.column_stack([np.ones_like(hours), hours])
        line = np.einsum("ij,jk,ik->i", design, self.covariance, design)
        return np.asarray(line + self.scale, dtype=np.float64)

    def mean(self, hours: FloatArray) -> FloatArray:
        return np.asarray(self.params[0] + self.params[1] * hours, dtype=np.float64)


def newey_west_lags(points: int) -> int:
    """The usual automatic lag length, ``floor(4 (n / 100) ** (2 / 9))``, at least 1.

    >>> newey_west_lags(72), newey_west_lags(1000)
    (3, 6)
    """
    return max(1, int(4 * (points / 100.0) ** (2.0 / 9.0)))


def fit_trend(hours: FloatArray, values: FloatArray, lags: int | None = None) -> TrendFit:
    """Least-squares line of ``values`` on ``hours`` with Newey-West covariance.

    >>> hours = np.arange(48.0)
    >>> noise = np.random.default_rng(0).normal(0, 0.5, 48)
    >>> fit = fit_trend(hours, 50 + 0.5 * hours + noise)
    >>> round(fit.slope, 1), fit.slope_p_value < 1e-6
    (0.5, True)
    """
    points = int(values.size)
    if hours.shape != values.shape or points < MIN_TREND_POINTS:
        raise ValueError(
            f"values: expected at least {MIN_TREND_POINTS} points matching the times, "
            f"got {points} values for {hours.size} times"
        )
    lags = newey_west_lags(points) if lags is None else lags
    design = np.column_stack([np.ones_like(hours), hours])
    params, *_ = np.linalg.lstsq(design, values, rcond=None)
    residuals = values - design @ params
    scale = float(residuals @ residuals) / max(points - 2, 1)
    scores = design * residuals[:, None]  # x_t e_t, one row per point
    meat = scores.T @ scores
    for lag in range(1, min(lags, points - 1) + 1):
        weight = 1.0 - lag / (lags + 1.0)
        cross = scores[lag:].T @ scores[:-lag]
        meat += weight * (cross + cross.T)
    bread = np.linalg.pinv(design.T @ design)
    covariance = bread @ meat @ bread
    return TrendFit(np.asarray(params, np.float64), covariance, scale, points)
