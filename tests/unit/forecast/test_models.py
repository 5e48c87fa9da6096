"""Behaviour of the single models: seasonal naive, the profile, the fallback, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast import HoltWinters, MSTLForecaster, SeasonalNaive, SeasonalProfile
from selfheal_ml.forecast.intervals import empirical_bounds


def test_seasonal_naive_repeats_the_last_season_and_widens_per_season() -> None:
    values = np.tile(np.arange(24.0), 5) + np.random.default_rng(0).normal(0, 1, 120)
    forecast = SeasonalNaive(period=24).fit(values).forecast(48)
    np.testing.assert_array_equal(forecast.mean[:24], values[-24:])
    np.testing.assert_array_equal(forecast.mean[24:], values[-24:])
    width = forecast.upper[80] - forecast.lower[80]
    np.testing.assert_allclose(width[24:] / width[:24], np.sqrt(2.0))


def test_seasonal_naive_on_a_history_shorter_than_a_season_repeats_the_last_value() -> None:
    forecast = SeasonalNaive(period=24).fit(np.array([3.0, 4.0, 5.0])).forecast(2)
    assert forecast.mean.tolist() == [5.0, 5.0]


def test_profile_learns_a_weekly_shape_a_daily_model_cannot() -> None:
    hours = np.arange(24 * 28)
    weekend = (hours % 168) >= 120
    values = 200.0 + 40.0 * np.sin(2 * np.pi * hours / 24) - 80.0 * weekend
    forecast = SeasonalProfile(period=168, cycles=3).fit(values).forecast(168)
    np.testing.assert_allclose(forecast.mean, values[-168:], rtol=0.02)


@pytest.mark.parametrize("model", [HoltWinters(), MSTLForecaster()])
def test_statsmodels_fit_failure_hands_over_to_seasonal_naive(model: HoltWinters) -> None:
    short = np.array([5.0, 6.0, 7.0, 6.0, 5.0, 6.0])
    forecast = model.fit(short).forecast(4)
    assert forecast.fallback_used
    assert forecast.model.endswith("->seasonal_naive")
    assert forecast.mean.tolist() == [6.0, 6.0, 6.0, 6.0]
    assert forecast.details["error"]


def test_validation_names_the_problem() -> None:
    index = pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC")
    with pytest.raises(ValidationError, match="NaN"):
        SeasonalNaive().fit(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValidationError, match="irregular"):
        SeasonalNaive().fit(pd.Series(np.ones(4), index=index.delete(2)))
    with pytest.raises(ValidationError, match="UTC"):
        SeasonalNaive().fit(pd.Series(np.ones(5), index=index.tz_localize(None)))
    with pytest.raises(ValidationError, match="too short"):
        SeasonalNaive().fit(np.array([]))
    with pytest.raises(ValidationError, match="levels"):
        SeasonalNaive().fit(np.ones(30)).forecast(3, levels=(80, 100))


def test_bad_parameters_are_refused_in_fit_naming_the_parameter() -> None:
    model = SeasonalProfile(cycles=0)
    with pytest.raises(ValidationError, match="cycles"):
        model.fit(np.ones(50))
    with pytest.raises(ValidationError, match="period"):
        SeasonalNaive(period=0).fit(np.ones(50))


def test_empirical_bounds_cover_the_requested_share_of_residuals() -> None:
    residuals = np.random.default_rng(3).normal(0.0, 2.0, (4, 500))
    lower, upper = empirical_bounds(np.zeros(1), residuals, [80], min_steps=500)
    inside = np.mean((residuals >= lower[80][0]) & (residuals <= upper[80][0]))
    assert inside == pytest.approx(0.80, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(2, 400),
    horizon=st.integers(1, 60),
    shift=st.floats(-50.0, 50.0),
)
def test_intervals_are_nested_for_any_series(
    seed: int, size: int, horizon: int, shift: float
) -> None:
    values = np.random.default_rng(seed).normal(shift, 5.0, size)
    for model in (SeasonalNaive(), SeasonalProfile(period=24, cycles=3)):
        forecast = model.fit(values).forecast(horizon, levels=(50, 80, 95))
        assert np.all(forecast.lower[95] <= forecast.lower[80])
        assert np.all(forecast.lower[80] <= forecast.lower[50])
        assert np.all(forecast.lower[50] <= forecast.mean)
        assert np.all(forecast.mean <= forecast.upper[50])
        assert np.all(forecast.upper[50] <= forecast.upper[80])
        assert np.all(forecast.upper[80] <= forecast.upper[95])


@pytest.mark.parametrize("hours", [336, 337])
def test_mstl_fits_a_history_of_exactly_two_weeks(hours: int) -> None:
    """Exactly two weekly cycles: statsmodels drops the weekly period (it is half the series),
    so only the daily one may be asked for (it used to fail with an IndexError)."""
    steps = np.arange(hours)
    values = 50 + 5 * np.sin(2 * np.pi * steps / 24) + 0.01 * steps
    model = MSTLForecaster().fit(values)
    forecast = model.forecast(24, levels=[80])
    assert not forecast.fallback_used
    assert sorted(model.seasons_) == ([24] if hours == 336 else [24, 168])
