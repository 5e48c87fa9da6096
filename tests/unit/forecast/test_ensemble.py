"""The backtest ensemble: picks the right member, combines, falls back, and is fast to call."""

from __future__ import annotations

import numpy as np

from selfheal_ml.forecast import (
    FORECASTERS,
    BacktestEnsemble,
    SeasonalNaive,
    SeasonalProfile,
    default_forecaster,
    iter_forecasts,
    make_forecaster,
    stack_forecasts,
)
from selfheal_ml.forecast.ensemble import best_combination


def weekly_series(seed: int) -> np.ndarray:
    hours = np.arange(24 * 28)
    rng = np.random.default_rng(seed)
    weekend = (hours % 168) >= 120
    return (
        300.0
        + 60.0 * np.sin(2 * np.pi * hours / 24)
        - 150.0 * weekend
        + rng.normal(0, 5, hours.size)
    )


def test_weekly_shape_selects_the_weekly_profile() -> None:
    members = {
        "daily_naive": SeasonalNaive,
        "weekly_profile": lambda: SeasonalProfile(period=168, cycles=2),
    }
    model = BacktestEnsemble(members=members, max_combination=1).fit(weekly_series(0))
    assert model.selected_ == ("weekly_profile",)
    assert model.forecast(24).model == "ensemble[weekly_profile]"


def test_best_combination_prefers_members_whose_errors_cancel() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.1, (2, 48))
    residuals = {"high": 1.0 + noise, "low": -1.0 - noise, "noisy": rng.normal(0, 2.0, (2, 48))}
    names, combined = best_combination(residuals, max_combination=2)
    assert names == ("high", "low")
    assert np.abs(combined).mean() < 0.2


def test_short_history_combines_every_member_without_backtest() -> None:
    model = BacktestEnsemble().fit(np.linspace(10.0, 20.0, 40))
    assert model.residuals_ is None
    forecast = model.forecast(6)
    assert set(forecast.details["members"]) == set(model.selected_)
    assert np.all(forecast.lower[95] <= forecast.mean)


def test_default_forecaster_beats_seasonal_naive_on_a_noisy_daily_series() -> None:
    hours = np.arange(24 * 21)
    noise = np.random.default_rng(2).normal(0.0, 20.0, hours.size)
    values = 300.0 + 60.0 * np.sin(2 * np.pi * hours / 24) + noise
    train, test = values[:-48], values[-48:]
    default_error = np.abs(default_forecaster().fit(train).forecast(48).mean - test).mean()
    naive_error = np.abs(SeasonalNaive().fit(train).forecast(48).mean - test).mean()
    assert default_error < 0.85 * naive_error


def test_registry_names_build_fresh_unfitted_models() -> None:
    for name in FORECASTERS:
        first, second = make_forecaster(name), make_forecaster(name)
        assert first is not second
        assert not hasattr(first, "data_")


def test_batch_forecasts_in_workers_match_in_process() -> None:
    histories = [weekly_series(seed)[: 24 * 10] for seed in range(3)]
    local = stack_forecasts(list(iter_forecasts(histories, 12, "profile_day", workers=1)))
    pooled = stack_forecasts(list(iter_forecasts(histories, 12, "profile_day", workers=2)))
    np.testing.assert_array_equal(local.mean, pooled.mean)
    assert local.mean.shape == (3, 12)
    assert local.models == ("seasonal_profile_24",) * 3
