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
