"""How soon *any* detector can notice a memory leak in the simulator's noise: an upper bound.

A simulated leak adds ``s * (t - t0)`` points of memory from its start ``t0``
(:data:`~selfheal_ml.sim.effects.MEMORY_LEAK_PERCENT_PER_S` times the fault's severity), on top
of an Ornstein-Uhlenbeck noise of sd ``sigma`` and time constant ``tau``
(:data:`~selfheal_ml.sim.drivers.HOST_NOISE_SD`, :data:`~selfheal_ml.sim.drivers.HOST_NOISE_TAU_S`).

The bound is for an *oracle*: a detector told the leak's start, its rate and the healthy
baseline exactly (the load-driven part of memory included), watching continuously. Its best
test of "leak" against "no leak" on the data up to ``T`` after the start is the likelihood
ratio (Neyman-Pearson); whitening the OU noise (Girsanov) turns it into a known signal in white
noise, with detectability

    d'(T)^2 = s^2 tau^2 ((1 + T / tau)^3 - 1) / (6 sigma^2).

Any real detector that raises false signs at ``rate`` per platform-day fires, on a healthy
platform, within a window of ``T`` seconds with probability at most ``alpha = rate * T / 86400``
(averaged over where the window falls). By the Neyman-Pearson lemma, and the concavity of the
Gaussian ROC curve, the share of leaks it can have noticed ``T`` seconds after they start is
at most ``Phi(d'(T) - z(1 - alpha))``. The real task is harder: the detector knows neither the
start nor the rate, and must also learn the baseline.

>>> round(detectability(300.0, slope_per_s=12.0 / 3600.0, sigma=1.0, tau_s=600.0), 2)
1.26
>>> round(detected_share_bound(300.0, 12.0 / 3600.0, 1.0, 600.0, false_signs_per_day=0.5), 3)
0.048
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from selfheal_ml.evaluation.detection import percentile

DAY_S = 86400.0
_NORMAL = NormalDist()


def detectability(horizon_s: float, slope_per_s: float, sigma: float, tau_s: float) -> float:
    """The oracle's d' after ``horizon_s`` seconds of a leak of ``slope_per_s`` points per
    second in OU noise of sd ``sigma`` and time constant ``tau_s``."""
    if horizon_s <= 0.0:
        return 0.0
    growth = (1.0 + horizon_s / tau_s) ** 3 - 1.0
    return abs(slope_per_s) * tau_s * math.sqrt(growth / 6.0) / sigma


def sampled_detectability(
    horizon_s: float, slope_per_s: float, sigma: float, tau_s: float, step_s: float
) -> float:
    """The oracle's d' when it sees memory only every ``step_s`` seconds, from a sample at the
    leak's start: the OU noise sampled is AR(1) (``phi = exp(-step / tau)``), and whitening it
    leaves the leak's increments ``s (t_k - phi t_(k-1))`` in noise of sd
    ``sigma sqrt(1 - phi^2)``. Never above :func:`detectability`; equal as the step shrinks."""
    phi = math.exp(-step_s / tau_s)
    innovation_sd = sigma * math.sqrt(1.0 - phi * phi)
    steps = int(horizon_s // step_s)
    energy = sum((slope_per_s * step_s * (k - phi * (k - 1))) ** 2 for k in range(1, steps + 1))
    return math.sqrt(energy) / innovation_sd


def false_alarm_share(horizon_s: float, false_signs_per_day: float) -> float:
    """The most a detector raising ``false_signs_per_day`` (on one platform) can fire within a
    window of ``horizon_s`` on a healthy platform, averaged over where the window falls."""
    return min(1.0, false_signs_per_day * horizon_s / DAY_S)


def detected_share_bound(
    horizon_s: float, slope_per_s: float, sigma: float, tau_s: float, false_signs_per_day: float
) -> float:
    """The most a detector with that false-sign rate can have noticed ``horizon_s`` after a
    leak of ``slope_per_s`` began: ``Phi(d' - z(1 - alpha))``."""
    alpha = false_alarm_share(horizon_s, false_signs_per_day)
    if alpha >= 1.0:
        return 1.0
    if alpha <= 0.0:
        return 0.0
    threshold = _NORMAL.inv_cdf(1.0 - alpha)
    return _NORMAL.cdf(detectability(horizon_s, slope_per_s, sigma, tau_s) - threshold)


def mean_detected_share_bound(
    horizon_s: float,
    slope_at_full_severity: float,
    severities: tuple[float, float],
    sigma: float,
    tau_s: float,
    false_signs_per_day: float,
    points: int = 201,
) -> float:
    """:func:`detected_share_bound` averaged over severities uniform on ``severities`` (the
    schedule's draw), by the midpoint rule on ``points`` severities."""
    low, high = severities
    width = (high - low) / points
    total = sum(
        detected_share_bound(
            horizon_s,
            slope_at_full_severity * (low + (index + 0.5) * width),
            sigma,
            tau_s,
            false_signs_per_day,
        )
        for index in range(points)
    )
    return total / points


def most_over_allowed(detected: int, quantile: float) -> int:
    """How many of ``detected`` times may exceed a limit while their ``quantile`` (the
    benchmark's :func:`~selfheal_ml.evaluation.detection.percentile`) stays within it."""
    allowed = 0
    for over in range(detected + 1):
        value = percentile([0.0] * (detected - over) + [1.0] * over, quantile)
        if value is None or value > 0.0:
            break
        allowed = over
    return allowed


def chance_at_most(max_failures: int, trials: int, failure_share: float) -> float:
    """P(at most ``max_failures`` failures in ``trials``), each failing with ``failure_share``
    independently: the binomial CDF."""
    if max_failures < 0:
        return 0.0
    return sum(
        math.comb(trials, failures)
        * failure_share**failures
        * (1.0 - failure_share) ** (trials - failures)
        for failures in range(min(trials, max_failures) + 1)
    )


def quantile_target_chance(
    other_times: Sequence[float],
    leaks: int,
    leak_within_share: float,
    limit_s: float,
    may_miss: int = 0,
    quantile: float = 0.95,
) -> float:
    """The most likely a run's ``quantile`` of times is within ``limit_s`` when its other faults
    took ``other_times``, each of ``leaks`` leaks is within the limit with at most
    ``leak_within_share`` (independently), and up to ``may_miss`` leaks may go without a time
    (undetected, unrepaired: the quantile is over the faults that have one, and the rate
    targets allow that many).

    A leak that misses the limit either has a time over it, which the quantile allows for as
    many as :func:`most_over_allowed` less the other faults over it, or none, which
    ``may_miss`` allows for; counting every leak as timed is the most generous case.
    """
    allowed = most_over_allowed(len(other_times) + leaks, quantile)
    others_over = sum(1 for value in other_times if value > limit_s)
    return chance_at_most(allowed - others_over + may_miss, leaks, 1.0 - leak_within_share)
