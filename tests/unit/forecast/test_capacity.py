"""Capacity breaches on the simulator: a memory leak is predicted with a sensible ETA, a flat
noisy disk never fires over a simulated week, and the decision rules hold on synthetic data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast import predict_breach
from selfheal_ml.forecast.capacity import (
    BreachPrediction,
    at_latest_traffic,
    short_look,
    since_last_reset,
    traffic_share,
)
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.catalogue import FaultKind

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
PLATFORM = "leadsite.ai"


def host_series(
    sim: PlatformSimulator, name: str, ends_s: np.ndarray, values: np.ndarray
) -> pd.Series:
    """One host metric of PLATFORM, averaged to 5-minute points (what the store's rollup gives)."""
    column = next(
        index
        for index, key in enumerate(sim.catalogue.keys)
        if key.startswith(name) and f'platform="{PLATFORM}"' in key
    )
    index = pd.DatetimeIndex([MONDAY + timedelta(seconds=float(end)) for end in ends_s])
    return pd.Series(values[:, column], index=index).resample("5min").mean().dropna()


def test_memory_leak_is_predicted_with_a_sensible_eta() -> None:
    sim = PlatformSimulator(seed=3, start=MONDAY)
    sim.advance(10 * 3600.0)
    sim.inject(FaultKind.MEMORY_LEAK, PLATFORM, severity=0.15)
    ends_s, values = sim.advance_recording(3 * 3600.0)
    memory = host_series(sim, "host_memory_percent", ends_s, values)
    breach = predict_breach(memory, limit=85.0, series="memory", horizon_s=24 * 3600.0)
    assert breach is not None
    later_s, later = sim.advance_recording(24 * 3600.0)
    truth = host_series(sim, "host_memory_percent", later_s, later)
    crossing = truth[truth >= 85.0].index[0]
    true_eta_s = (crossing - memory.index[-1]).total_seconds()
    assert breach.time_to_breach_s == pytest.approx(true_eta_s, rel=0.25)
    assert breach.probability >= 0.8 and breach.eta.tzinfo is not None


def test_flat_noisy_disk_yields_no_breach_over_a_simulated_week() -> None:
    sim = PlatformSimulator(seed=4, start=MONDAY)
    ends_s, values = sim.advance_recording(7 * 86400.0)
    disk = host_series(sim, "host_disk_percent", ends_s, values)
    fired = [
        predict_breach(disk[end - pd.Timedelta(hours=6) : end], limit=90.0, series="disk")
        for end in disk.index[72::12]
    ]
    assert len(fired) > 150
    assert [breach for breach in fired if breach is not None] == []


def hourly(values: np.ndarray) -> pd.Series:
    return pd.Series(
        values, index=pd.date_range("2026-01-01", periods=values.size, freq="h", tz="UTC")
    )


def test_a_trend_away_from_the_limit_or_too_slow_to_reach_it_is_no_breach() -> None:
    noise = np.random.default_rng(1).normal(0.0, 0.3, 48)
    falling = hourly(70.0 - 0.5 * np.arange(48) + noise)
    assert predict_breach(falling, limit=80.0) is None
    slow = hourly(40.0 + 0.05 * np.arange(48) + noise)
    assert predict_breach(slow, limit=80.0) is None


def test_a_falling_series_breaches_a_floor_when_direction_is_below() -> None:
    noise = np.random.default_rng(2).normal(0.0, 0.3, 48)
    free_disk = hourly(40.0 - 0.8 * np.arange(48) + noise)
    breach = predict_breach(free_disk, limit=0.0, direction="below")
    assert breach is not None
    assert breach.time_to_breach_s == pytest.approx(3600.0 * (40.0 / 0.8 - 47), abs=3600.0)
    assert breach.slope_per_hour == pytest.approx(-0.8, rel=0.05)


def test_autocorrelated_wander_is_not_taken_for_a_trend() -> None:
    fired = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        wander = np.zeros(96)
        for step in range(1, 96):
            wander[step] = 0.95 * wander[step - 1] + rng.normal(0.0, 1.0)
        fired += predict_breach(hourly(75.0 + wander), limit=85.0) is not None
    assert fired <= 2


def test_bad_input_is_named() -> None:
    with pytest.raises(ValidationError, match="too short"):
        predict_breach(hourly(np.ones(5)), limit=1.0)
    with pytest.raises(ValidationError, match="horizon_s"):
        predict_breach(hourly(np.ones(24)), limit=1.0, horizon_s=0.0)
    with pytest.raises(ValidationError, match="UTC"):
        predict_breach(pd.Series(np.ones(24)), limit=1.0)


# ---- the short look (a leak within the hour) -------------------------------------------------


def platform_columns(sim: PlatformSimulator) -> tuple[int, list[int]]:
    """PLATFORM's memory column and its request-rate columns in the simulator's values."""
    keys = sim.catalogue.keys
    memory = next(
        index
        for index, key in enumerate(keys)
        if key.startswith("host_memory_percent{") and f'platform="{PLATFORM}"' in key
    )
    traffic = [
        index
        for index, key in enumerate(keys)
        if key.startswith("http_requests_per_s{") and f'platform="{PLATFORM}"' in key
    ]
    return memory, traffic


def looks(
    sim: PlatformSimulator, ends_s: np.ndarray, values: np.ndarray, checks: range
) -> list[BreachPrediction | None]:
    """The short look at PLATFORM's memory at each check (an index into the 30 s points): the
    share learned over the 6 h before it, the look over the 45 min before it."""
    memory, traffic = platform_columns(sim)
    load = values[:, traffic].sum(axis=1)
    results = []
    for end in checks:
        share = traffic_share(load[end - 720 : end + 1], values[end - 720 : end + 1, memory])
        begin = end - 90
        results.append(
            short_look(
                ends_s[begin : end + 1] - ends_s[begin],
                values[begin : end + 1, memory],
                load[begin : end + 1],
                share or 0.0,
                MONDAY + timedelta(seconds=float(ends_s[end])),
                85.0,
            )
        )
    return results


def test_the_short_look_predicts_a_simulated_leak_within_the_hour() -> None:
    sim = PlatformSimulator(seed=5, start=MONDAY)
    before_s, before = sim.advance_recording(8 * 3600.0)
    sim.inject(FaultKind.MEMORY_LEAK, PLATFORM, severity=0.8, duration_s=3600.0)
    during_s, during = sim.advance_recording(50 * 60.0)
    ends_s, values = np.concatenate([before_s, during_s]), np.concatenate([before, during])
    injected = before_s.size
    quiet = looks(sim, ends_s, values, range(injected - 60, injected))
    assert [p for p in quiet if p is not None] == []
    predictions = looks(sim, ends_s, values, range(injected + 60, injected + 100))
    first = next(prediction for prediction in predictions if prediction is not None)
    assert first.slope_per_hour > 3.0  # the leak adds 9.6 points an hour at severity 0.8
    assert 3600.0 < first.time_to_breach_s <= 4 * 3600.0


def test_the_short_look_is_quiet_on_a_healthy_simulated_day() -> None:
    sim = PlatformSimulator(seed=6, start=MONDAY)
    ends_s, values = sim.advance_recording(30 * 3600.0)
    predictions = looks(sim, ends_s, values, range(720, values.shape[0], 10))
    assert len(predictions) == 288  # every 5 min for 24 h after the first 6 h
    assert [p for p in predictions if p is not None] == []


def test_the_traffic_share_is_learned_and_taken_out() -> None:
    rng = np.random.default_rng(1)
    load = 20.0 + 10.0 * np.sin(np.linspace(0.0, 6.0, 360)) + rng.normal(0.0, 0.5, 360)
    memory = 40.0 + 0.6 * load + rng.normal(0.0, 0.3, 360)
    share = traffic_share(load, memory)
    assert share is not None and share == pytest.approx(0.6, abs=0.05)
    assert traffic_share(load[:10], memory[:10]) is None  # too few points to learn from
    held = at_latest_traffic(memory[-90:], load[-90:], share)
    assert np.std(held) < 0.5 * np.std(memory[-90:])  # the traffic's swing is gone
    with_gaps = load[-90:].copy()
    with_gaps[[0, 40]] = np.nan
    assert np.all(np.isfinite(at_latest_traffic(memory[-90:], with_gaps, share)))
    assert at_latest_traffic(memory[-90:], np.full(90, np.nan), share) is not None


# tackle.io's memory on held-out seed 7012, 5-minute means from 10:05 to 16:05 on 2026-01-13
# (chaos_benchmark.py --seed 7012 --days 21 --faults 200 --attacks 42): a crash at 10:17, its
# service back at 11:09.
# fmt: off
CRASH_WINDOW = [
    47.1, 47.7, 31.9, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 19.2, 48.9, 49.8,
    48.6, 47.3, 47.7, 48.6, 49.4, 49.4, 49.0, 48.2, 47.9, 47.7, 48.2, 48.7, 48.6, 49.0, 49.1,
    49.1, 49.6, 48.9, 49.2, 48.0, 49.1, 48.6, 48.6, 49.0, 49.7, 49.4, 48.7, 47.8, 47.8, 46.9,
    48.0, 50.2, 49.3, 48.5, 49.3, 48.8, 48.9, 49.0, 48.2, 47.7, 48.4, 48.9, 49.0, 49.9, 49.7,
    49.4, 48.8, 48.8, 49.7, 48.8, 48.5, 48.3, 48.3, 49.0, 49.0, 48.8, 48.8, 49.1,
]
# fmt: on


def test_a_crash_and_its_recovery_are_no_trend_to_the_limit() -> None:
    """Over the six hours the line through both regimes rose 3-4 points an hour: a leak was
    predicted at 16:00 and the healthy platform restarted. Fitted after the return (the last
    move of more than 10 points), the same window is flat."""
    index = pd.date_range("2026-01-13 10:05", periods=len(CRASH_WINDOW), freq="5min", tz="UTC")
    memory = pd.Series(CRASH_WINDOW, index=index)
    assert predict_breach(memory, limit=85.0) is not None  # what the long look saw
    after = since_last_reset(memory)
    assert after.index[0] == pd.Timestamp("2026-01-13 11:10", tz="UTC")
    assert predict_breach(after, limit=85.0) is None
