"""The numpy trend fit agrees with statsmodels' OLS with HAC covariance, the reference it
replaces in the capacity check."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from selfheal_ml.forecast.trend import fit_trend, newey_west_lags


@pytest.mark.parametrize("points", [12, 60, 72, 300])
def test_fit_matches_statsmodels_hac(points: int) -> None:
    rng = np.random.default_rng(points)
    hours = np.sort(rng.uniform(0.0, 6.0, points))
    values = 50.0 + 0.3 * hours + np.cumsum(rng.normal(0.0, 0.3, points))  # autocorrelated
    design = np.column_stack([np.ones_like(hours), hours])
    reference = sm.OLS(values, design).fit(
        cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(points)}
    )
    fit = fit_trend(hours, values)
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-9)
    np.testing.assert_allclose(fit.covariance, reference.cov_params(), rtol=1e-9)
    assert fit.scale == pytest.approx(reference.scale, rel=1e-9)
    assert fit.slope_p_value == pytest.approx(reference.pvalues[1], rel=1e-6)


def test_too_few_points_name_the_values() -> None:
    with pytest.raises(ValueError, match="values: expected at least 3"):
        fit_trend(np.arange(2.0), np.arange(2.0))


@pytest.mark.parametrize("points", [45, 120])
def test_fit_with_covariates_matches_statsmodels_hac(points: int) -> None:
    rng = np.random.default_rng(points)
    hours = np.linspace(0.0, 0.75, points)
    traffic = 20.0 + 10.0 * hours + rng.normal(0.0, 1.0, points)
    values = 40.0 + 0.5 * traffic + np.cumsum(rng.normal(0.0, 0.2, points))
    design = np.column_stack([np.ones_like(hours), hours, traffic])
    reference = sm.OLS(values, design).fit(
        cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(points)}
    )
    fit = fit_trend(hours, values, covariates=traffic[:, None])
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-9)
    np.testing.assert_allclose(fit.covariance, reference.cov_params(), rtol=1e-9)
    assert fit.scale == pytest.approx(reference.scale, rel=1e-9)
    # the line ahead holds the traffic at its last value
    ahead = np.array([1.0])
    expected = reference.params @ np.array([1.0, 1.0, traffic[-1]])
    assert fit.mean(ahead)[0] == pytest.approx(expected, rel=1e-12)


def test_growth_the_traffic_explains_is_not_a_trend() -> None:
    """Memory that follows a rising traffic is a busy hour; the same rise with flat traffic
    is a leak."""
    rng = np.random.default_rng(3)
    hours = np.linspace(0.0, 0.75, 45)
    rising_traffic = 20.0 + 20.0 * hours + rng.normal(0.0, 0.5, 45)
    busy = 30.0 + 0.6 * rising_traffic + rng.normal(0.0, 0.3, 45)
    explained = fit_trend(hours, busy, covariates=rising_traffic[:, None])
    assert fit_trend(hours, busy).slope_p_value < 0.01  # alone it looks like a trend
    assert explained.slope_p_value > 0.01
    flat_traffic = 20.0 + rng.normal(0.0, 0.5, 45)
    leak = 50.0 + 8.0 * hours + rng.normal(0.0, 0.3, 45)
    leaking = fit_trend(hours, leak, covariates=flat_traffic[:, None])
    assert leaking.slope == pytest.approx(8.0, abs=1.0)
    assert leaking.slope_p_value < 0.01


def test_covariates_must_match_the_points() -> None:
    with pytest.raises(ValueError, match="covariates: expected 5 rows"):
        fit_trend(np.arange(5.0), np.arange(5.0), covariates=np.zeros((4, 1)))
