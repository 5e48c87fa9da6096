"""A straight line through a short series, with standard errors that respect autocorrelation.

Metric noise is autocorrelated (a minute's value is close to the previous minute's), so ordinary
least-squares standard errors make any wander look like a significant trend. :func:`fit_trend`
fits ``value = intercept + slope * hours`` by least squares and estimates the parameters'
covariance with the Newey-West (HAC, Bartlett kernel) estimator, as statsmodels' ``OLS.fit(
cov_type="HAC")`` does by default (no small-sample correction; a test checks the two agree).
Optional covariates enter the same regression (``value = intercept + slope * hours + b . x``):
the slope is then the growth that the covariates do not explain, e.g. memory that rises while
the traffic that could explain it stays flat (a leak) rather than with it (a busy hour). The
line's future values hold the covariates at their last observed values.
Written in numpy because the Predictive agent fits one line per resource series per round: a
statsmodels fit costs milliseconds, this one tens of microseconds.

Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55(3), 703-708.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import erfc, sqrt

import numpy as np

from selfheal_ml.forecast.base import FloatArray

MIN_TREND_POINTS = 3


@dataclass(frozen=True)
class TrendFit:
    """A least-squares line with HAC covariance; ``scale`` is the residual variance."""

    params: FloatArray  # (intercept, slope per hour, covariate coefficients...)
    covariance: FloatArray  # square, HAC
    scale: float  # residual sum of squares / (n - parameters)
    points: int
    held: FloatArray = field(default_factory=lambda: np.zeros(0))  # covariates' last values

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

    def _future_design(self, hours: FloatArray) -> FloatArray:
        held = np.broadcast_to(self.held, (hours.size, self.held.size))
        return np.column_stack([np.ones_like(hours), hours, held])

    def predictive_variance(self, hours: FloatArray) -> FloatArray:
        """Variance of a new observation at ``hours``: the line's uncertainty plus the noise."""
        design = self._future_design(hours)
        line = np.einsum("ij,jk,ik->i", design, self.covariance, design)
        return np.asarray(line + self.scale, dtype=np.float64)

    def mean(self, hours: FloatArray) -> FloatArray:
        """The line at ``hours``, covariates held at their last values."""
        return np.asarray(self._future_design(hours) @ self.params, dtype=np.float64)


def newey_west_lags(points: int) -> int:
    """The usual automatic lag length, ``floor(4 (n / 100) ** (2 / 9))``, at least 1.

    >>> newey_west_lags(72), newey_west_lags(1000)
    (3, 6)
    """
    return max(1, int(4 * (points / 100.0) ** (2.0 / 9.0)))


def fit_trend(
    hours: FloatArray,
    values: FloatArray,
    lags: int | None = None,
    covariates: FloatArray | None = None,
) -> TrendFit:
    """Least-squares line of ``values`` on ``hours`` (and ``covariates``, one column each,
    one row per point) with Newey-West covariance.

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
    extra = np.zeros((points, 0)) if covariates is None else np.asarray(covariates, np.float64)
    if extra.ndim != 2 or extra.shape[0] != points:
        raise ValueError(f"covariates: expected {points} rows, got shape {extra.shape}")
    lags = newey_west_lags(points) if lags is None else lags
    design = np.column_stack([np.ones_like(hours), hours, extra])
    params, *_ = np.linalg.lstsq(design, values, rcond=None)
    residuals = values - design @ params
    scale = float(residuals @ residuals) / max(points - design.shape[1], 1)
    scores = design * residuals[:, None]  # x_t e_t, one row per point
    meat = scores.T @ scores
    for lag in range(1, min(lags, points - 1) + 1):
        weight = 1.0 - lag / (lags + 1.0)
        cross = scores[lag:].T @ scores[:-lag]
        meat += weight * (cross + cross.T)
    bread = np.linalg.pinv(design.T @ design)
    covariance = bread @ meat @ bread
    held = extra[-1] if extra.shape[1] else np.zeros(0)
    return TrendFit(np.asarray(params, np.float64), covariance, scale, points, held)
