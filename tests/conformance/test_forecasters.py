"""Every registered forecaster honours the forecaster contract.

Length equals the horizon; ``lower <= mean <= upper`` and each interval lies inside the wider
ones; refitting on the same data gives the same forecast; the future index continues the
input's (DatetimeIndex or positions); ``forecast`` before ``fit`` and a bad horizon raise
errors that name the problem; parameters are stored verbatim in ``__init__``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.errors import NotFittedError, ValidationError
from selfheal_ml.forecast import FORECASTERS, Forecast, Forecaster

HOURS = 24 * 15


def hourly_series(seed: int, n_points: int = HOURS) -> pd.Series:
    """A positive daily + weekly cycle with noise and a slight drift, one point an hour."""
    rng = np.random.default_rng(seed)
    hours = np.arange(n_points)
    values = (
        100.0
        + 25.0 * np.sin(2 * np.pi * hours / 24)
        + 10.0 * (hours % 168 >= 120)
        + 0.02 * hours
        + rng.normal(0.0, 3.0, n_points)
    )
    index = pd.date_range("2026-03-01", periods=n_points, freq="h", tz="UTC")
    return pd.Series(values, index=index)


SERIES = hourly_series(seed=7)
FITTED: dict[tuple[str, str], Forecaster] = {}


def fitted(name: str, kind: str) -> Forecaster:
    """One fit per (model, input kind) for the read-only checks, shared across tests."""
    if (name, kind) not in FITTED:
        data = SERIES if kind == "series" else SERIES.to_numpy()
        FITTED[name, kind] = FORECASTERS[name]().fit(data)
    return FITTED[name, kind]


@pytest.fixture(params=sorted(FORECASTERS))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def check_bounds(forecast: Forecast, horizon: int) -> None:
    assert len(forecast.index) == forecast.mean.size == horizon
    assert np.all(np.isfinite(forecast.mean))
    levels = sorted(forecast.lower)
    assert levels == sorted(forecast.upper) == [80, 95]
    for level in levels:
        assert forecast.lower[level].size == forecast.upper[level].size == horizon
        assert np.all(forecast.lower[level] <= forecast.mean)
        assert np.all(forecast.mean <= forecast.upper[level])
    assert np.all(forecast.lower[95] <= forecast.lower[80])
    assert np.all(forecast.upper[80] <= forecast.upper[95])


def test_forecast_shape_bounds_and_index(name: str) -> None:
    forecast = fitted(name, "series").forecast(30)
    check_bounds(forecast, 30)
    expected = pd.date_range(SERIES.index[-1] + pd.Timedelta(hours=1), periods=30, freq="h")
    assert forecast.index.equals(expected)
    assert forecast.model


def test_numpy_input_continues_positions_with_the_same_numbers(name: str) -> None:
    forecast = fitted(name, "array").forecast(5, levels=(95, 80))
    check_bounds(forecast, 5)
    assert list(forecast.index) == list(range(SERIES.size, SERIES.size + 5))
    from_series = fitted(name, "series").forecast(5)
    np.testing.assert_array_equal(forecast.mean, from_series.mean)
    np.testing.assert_array_equal(forecast.lower[80], from_series.lower[80])


def test_refit_is_deterministic(name: str) -> None:
    model = fitted(name, "series")
    first = model.forecast(24)
    second = model.fit(SERIES).forecast(24)
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.upper[95], second.upper[95])


def test_forecast_before_fit_names_the_class(name: str) -> None:
    model = FORECASTERS[name]()
    with pytest.raises(NotFittedError, match=type(model).__name__):
        model.forecast(3)


@pytest.mark.parametrize("horizon", [0, -4, 2.5, True])
def test_bad_horizon_is_named(name: str, horizon: object) -> None:
    with pytest.raises(ValidationError, match="horizon"):
        fitted(name, "series").forecast(horizon)  # type: ignore[arg-type]


def test_input_is_not_mutated(name: str) -> None:
    values = SERIES.to_numpy()
    copy = values.copy()
    fitted(name, "array").forecast(6)
    np.testing.assert_array_equal(values, copy)


def test_parameters_are_stored_verbatim(name: str) -> None:
    model = FORECASTERS[name]()
    assert not [key for key in vars(model) if key.endswith("_")]
    assert repr(model).startswith(type(model).__name__ + "(")
