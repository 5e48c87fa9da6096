"""The leak bound's formula against the simulator's own noise: the oracle's whitened statistic,
computed on draws of :class:`~selfheal_ml.sim.drivers.OrnsteinUhlenbeck`, has the d' the
formula gives; and the counting helpers agree with the benchmark's percentile."""

from __future__ import annotations

import math

import numpy as np
import pytest

from selfheal_ml.evaluation.detection import percentile
from selfheal_ml.evaluation.leak_bound import (
    chance_at_most,
    detectability,
    detected_share_bound,
    mean_detected_share_bound,
    most_over_allowed,
    quantile_target_chance,
    sampled_detectability,
)
from selfheal_ml.sim.drivers import HOST_NOISE_SD, HOST_NOISE_TAU_S, OrnsteinUhlenbeck
from selfheal_ml.sim.effects import MEMORY_LEAK_PERCENT_PER_S

SIGMA = HOST_NOISE_SD[1]
SLOPE = MEMORY_LEAK_PERCENT_PER_S


def test_sampling_more_often_approaches_the_continuous_formula_from_below() -> None:
    continuous = detectability(300.0, SLOPE, SIGMA, HOST_NOISE_TAU_S)
    every_30 = sampled_detectability(300.0, SLOPE, SIGMA, HOST_NOISE_TAU_S, 30.0)
    every_1 = sampled_detectability(300.0, SLOPE, SIGMA, HOST_NOISE_TAU_S, 1.0)
    assert every_30 < every_1 < continuous
    assert every_1 == pytest.approx(continuous, rel=0.02)


def test_the_whitened_statistic_on_simulated_noise_has_the_formulas_d_prime() -> None:
    """Draw the simulator's memory noise (started stationary: the oracle knows the past), add
    a full-severity leak from t = 0, whiten, and project on the leak's whitened shape. Without
    the leak the statistic is standard normal; with it, its mean is the sampled d'."""
    step_s, horizon_s, trials = 10.0, 600.0, 4000
    steps = int(horizon_s / step_s)
    rng = np.random.default_rng(3)
    process = OrnsteinUhlenbeck(np.full(trials, SIGMA), tau_s=HOST_NOISE_TAU_S)
    process.start(rng)
    start = process.value.copy()
    noise = np.vstack([start, process.steps(rng, np.full(steps, step_s))])  # (steps + 1, trials)
    times = np.arange(steps + 1) * step_s
    leak = SLOPE * times
    phi = math.exp(-step_s / HOST_NOISE_TAU_S)
    innovation_sd = SIGMA * math.sqrt(1.0 - phi * phi)
    shape = (leak[1:] - phi * leak[:-1]) / innovation_sd
    unit = shape / np.linalg.norm(shape)

    def statistic(observed: np.ndarray) -> np.ndarray:
        whitened = (observed[1:] - phi * observed[:-1]) / innovation_sd
        projected: np.ndarray = unit @ whitened
        return projected

    healthy = statistic(noise)
    leaking = statistic(noise + leak[:, None])
    expected = sampled_detectability(horizon_s, SLOPE, SIGMA, HOST_NOISE_TAU_S, step_s)
    assert healthy.mean() == pytest.approx(0.0, abs=0.06)
    assert healthy.std() == pytest.approx(1.0, abs=0.05)
    assert leaking.mean() == pytest.approx(expected, abs=0.06)


def test_the_bound_grows_with_time_severity_and_false_sign_budget() -> None:
    low = detected_share_bound(300.0, 0.6 * SLOPE, SIGMA, HOST_NOISE_TAU_S, 0.5)
    high = detected_share_bound(300.0, SLOPE, SIGMA, HOST_NOISE_TAU_S, 0.5)
    later = detected_share_bound(900.0, SLOPE, SIGMA, HOST_NOISE_TAU_S, 0.5)
    noisier = detected_share_bound(300.0, SLOPE, SIGMA, HOST_NOISE_TAU_S, 5.0)
    assert low < high < later
    assert high < noisier
    mean = mean_detected_share_bound(300.0, SLOPE, (0.6, 1.0), SIGMA, HOST_NOISE_TAU_S, 0.5)
    assert low < mean < high


@pytest.mark.parametrize("detected", [20, 100, 182, 200])
def test_most_over_allowed_is_the_percentiles_own_edge(detected: int) -> None:
    allowed = most_over_allowed(detected, 0.95)
    within = [1.0] * (detected - allowed) + [1000.0] * allowed
    assert percentile(within, 0.95) == 1.0
    one_more = [1.0] * (detected - allowed - 1) + [1000.0] * (allowed + 1)
    assert percentile(one_more, 0.95) > 1.0  # type: ignore[operator]


def test_chance_at_most_is_the_binomial_cdf() -> None:
    assert chance_at_most(-1, 5, 0.5) == 0.0
    assert chance_at_most(5, 5, 0.5) == pytest.approx(1.0)
    assert chance_at_most(0, 3, 0.5) == pytest.approx(0.125)


def test_a_run_with_every_other_fault_fast_still_needs_most_leaks_within_the_limit() -> None:
    """182 other faults within 300 s and 18 leaks: 9 may be over, so 9 must be within; at a
    3 % chance each that is about 3e-10. If every leak were sure to be within, it is met."""
    others = [20.0] * 182
    assert quantile_target_chance(others, 18, 0.03, 300.0) < 1e-8
    assert quantile_target_chance(others, 18, 1.0, 300.0) == pytest.approx(1.0)
    assert quantile_target_chance(others, 18, 0.03, 300.0, may_miss=9) > 0.99
