"""A leak's ramp in a load-following, autocorrelated series: a likelihood-ratio test.

A memory leak adds a straight line to memory from the moment it starts. Healthy memory is not
flat: it follows the platform's traffic (more requests, more memory) and wanders around that
with autocorrelated noise (minutes of memory). A slope fitted to the last half hour cannot
tell the two apart (a wander looks like a trend, ``capacity.short_look``), so this module uses
what a long history knows and a short window does not:

1. :func:`fit_ramp_baseline`, over hours of minute means (the store's rollups), learns the
   healthy series: ``value = level + share x load + noise``, the noise an AR(1) with
   ``persistence`` (lag-1 correlation per minute) and innovations of ``innovation_sd``. It is
   robust: points more than four robust spreads off the fit (a crash, a leak of last night)
   are left out of the next pass and of the noise's estimate.
2. :func:`ramp_evidence`, on the last minutes, takes the healthy part out (the residual), and
   whitens it (``e_t = r_t - persistence x r_{t-1}``): healthy, the ``e_t`` are independent
   with sd ``innovation_sd``; under a ramp of slope ``s`` from minute ``t0`` they have mean
   ``s x g_t``, ``g_t = k - persistence x (k - 1)`` at the ``k``-th minute of the ramp. The
   generalised likelihood ratio for "a ramp started at ``t0``" is the z-score
   ``sum(g e) / (sd x sqrt(sum(g g)))`` (normal under health), maximised over ``t0``. It uses
   both the rise and the level against the learnt baseline, which is why it sees a leak
   sooner than a slope alone. A ramp must last at least the noise's memory
   (:attr:`RampBaseline.memory_steps`, ``1 / (1 - persistence)``: 14 minutes for the
   simulator's memory): shorter, the maximum over so many starts finds the noise's own
   wanders (seed 7013: 4.6 points in six minutes, z 5.7, a restart of a healthy platform).

The model is a line learnt over the loads of the last day; past them it is an extrapolation.
A window whose load goes beyond :data:`BEYOND_LEARNT` times the highest load the model knows
well (:attr:`RampBaseline.load_high`, the 99th percentile of the loads it was learnt on: one
surge minute kept in the fit does not stretch it) gives no evidence, as a traffic jump gives
none: on dev seed 7014 a campaign took leadsite.io to 42-50 requests a second against a model
learnt on 6-35, memory stood 3-4 points above the line, and the test named a leak that a
restart did not touch (``pipelines/leak_watch_on_store.py``). Once the model is re-learnt
over the campaign's own minutes, they are within its range again.

Innovations are clipped from above at ``clip`` sds (one jump up, a process coming back after
a crash, is not a ramp) but not from below: a drop (a restart, a leak that ended) cancels the
evidence of the ramp before it at once. Pure: arrays in, numbers out; the caller resamples to
one point per minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from selfheal_ml.errors import ValidationError
from selfheal_ml.forecast.base import FloatArray

MIN_BASELINE_POINTS = 120
MIN_RAMP_POINTS = 5
LONGEST_MEMORY_STEPS = 20
OUTLIER_SPREADS = 4.0
MAD_TO_SD = 1.4826
JUMP_STEPS = 5
JUMP_RATIO = 0.5
BEYOND_LEARNT = 1.2
LOAD_HIGH_QUANTILE = 0.99


@dataclass(frozen=True)
class RampBaseline:
    """A healthy load-following series: ``level + share x load`` plus AR(1) noise."""

    level: float
    share: float  # points per unit of load (at least 0)
    persistence: float  # lag-1 correlation of the noise, per step, in [0, 0.99]
    innovation_sd: float  # sd of the noise's innovations
    load_high: float = math.inf  # the load it was learnt on, at its 99th percentile

    @property
    def memory_steps(self) -> int:
        """How many steps the noise takes to forget a wander, ``1 / (1 - persistence)``
        rounded up, at least ``MIN_RAMP_POINTS`` and at most ``LONGEST_MEMORY_STEPS``: a
        ramp shorter than that is what the noise does by itself now and then.

        >>> RampBaseline(50.0, 0.0, 0.926, 0.37).memory_steps
        14
        """
        steps = math.ceil(1.0 / (1.0 - self.persistence) - 1e-9)
        return min(max(steps, MIN_RAMP_POINTS), LONGEST_MEMORY_STEPS)

    @property
    def noise_sd(self) -> float:
        """The noise's stationary standard deviation."""
        return self.innovation_sd / math.sqrt(1.0 - self.persistence**2)

    def expected(self, load: FloatArray) -> FloatArray:
        """The healthy value at each ``load``."""
        healthy: FloatArray = self.level + self.share * load
        return healthy


@dataclass(frozen=True)
class RampEvidence:
    """The strongest ramp in a window: its z-score, slope per step, steps since it started,
    and the last point's residual (value less the healthy value)."""

    z: float
    slope: float
    steps: int
    residual: float

    @property
    def height(self) -> float:
        """How far the ramp has risen since it started."""
        return self.slope * self.steps

    def ongoing(self, noise_sd: float) -> bool:
        """Whether the last point still stands at least half the ramp's height and two noise
        sds above the healthy value: a ramp that a drop has undone (a restart, a leak that
        ended) is over, however strong the evidence of its rise.

        >>> RampEvidence(z=8.0, slope=0.2, steps=30, residual=5.0).ongoing(1.0)
        True
        >>> RampEvidence(z=8.0, slope=0.2, steps=30, residual=1.0).ongoing(1.0)
        False
        """
        return self.residual >= max(0.5 * self.height, 2.0 * noise_sd)


def _robust_sd(values: FloatArray) -> float:
    return MAD_TO_SD * float(np.median(np.abs(values - np.median(values))))


def fit_ramp_baseline(values: FloatArray, load: FloatArray) -> RampBaseline | None:
    """The healthy model of ``values`` (one point per step, oldest first) against ``load``
    (same steps); ``None`` with fewer than ``MIN_BASELINE_POINTS`` finite pairs or no noise.

    >>> rng = np.random.default_rng(0)
    >>> load = 40.0 + 10.0 * np.sin(np.arange(600) / 100.0)
    >>> noise = np.zeros(600)
    >>> for t in range(1, 600):
    ...     noise[t] = 0.9 * noise[t - 1] + 0.4 * rng.standard_normal()
    >>> base = fit_ramp_baseline(45.0 + 0.1 * load + noise, load)
    >>> round(base.share, 1), round(base.persistence, 1), round(base.innovation_sd, 1)
    (0.1, 0.9, 0.4)
    """
    if values.shape != load.shape:
        raise ValidationError(
            "load", f"expected the shape of values {values.shape}, got {load.shape}"
        )
    finite = np.isfinite(values) & np.isfinite(load)
    if int(finite.sum()) < MIN_BASELINE_POINTS:
        return None
    keep = finite.copy()
    residual = np.zeros_like(values)
    level, share = 0.0, 0.0
    for _ in range(3):
        if int(keep.sum()) < MIN_BASELINE_POINTS:
            return None
        design = np.column_stack([np.ones(int(keep.sum())), load[keep]])
        share = max(float(np.linalg.lstsq(design, values[keep], rcond=None)[0][1]), 0.0)
        level = float(np.median(values[keep] - share * load[keep]))
        residual = np.where(finite, values - share * load - level, np.nan)
        spread = _robust_sd(residual[keep])
        if spread <= 0.0:
            return None
        keep = finite & (np.abs(np.nan_to_num(residual)) <= OUTLIER_SPREADS * spread)
    pairs = keep[1:] & keep[:-1]
    before, after = residual[:-1][pairs], residual[1:][pairs]
    if before.size < MIN_BASELINE_POINTS // 2 or float(before @ before) <= 0.0:
        return None
    persistence = min(max(float(before @ after) / float(before @ before), 0.0), 0.99)
    innovation_sd = _robust_sd(after - persistence * before)
    if innovation_sd <= 0.0:
        return None
    load_high = float(np.quantile(load[keep], LOAD_HIGH_QUANTILE))
    return RampBaseline(level, share, persistence, innovation_sd, load_high)


def traffic_jumped(load: FloatArray, steps: int = JUMP_STEPS, ratio: float = JUMP_RATIO) -> bool:
    """Whether ``load`` rose by more than ``ratio`` within ``steps`` anywhere: a surge, past
    which the healthy model does not hold (an overloaded service sheds requests, so the
    traffic it reports understates what drives its memory).

    >>> traffic_jumped(np.linspace(30.0, 54.0, 16))  # a campaign: 1.8x in 15 minutes
    False
    >>> traffic_jumped(np.array([30.0, 31.0, 100.0, 104.0]))  # a surge
    True
    """
    if load.size <= 1:
        return False
    padded = np.concatenate([np.full(steps - 1, np.inf), load[:-1]])
    earlier = np.lib.stride_tricks.sliding_window_view(padded, steps).min(axis=1)
    return bool(np.any((earlier > 0.0) & (load[1:] > (1.0 + ratio) * earlier)))


def ramp_evidence(
    values: FloatArray,
    load: FloatArray,
    baseline: RampBaseline,
    clip: float = 3.0,
    min_steps: int | None = None,
) -> RampEvidence | None:
    """The strongest upward ramp in ``values`` (one point per step, oldest first; the first
    point only anchors the whitening) given the healthy ``baseline``, over every start that
    leaves at least ``min_steps`` steps (default: the baseline's ``memory_steps``); ``None``
    if the window is shorter or not finite.

    >>> base = RampBaseline(level=50.0, share=0.0, persistence=0.9, innovation_sd=0.4)
    >>> flat, load = np.full(41, 50.0), np.zeros(41)
    >>> round(ramp_evidence(flat, load, base).z, 6) <= 0.0
    True
    >>> leak = flat + 0.2 * np.maximum(np.arange(41) - 10, 0)  # 0.2 a step from step 10
    >>> evidence = ramp_evidence(leak, load, base)
    >>> round(evidence.z, 1), round(evidence.slope, 3), evidence.steps
    (7.1, 0.2, 30)
    """
    if values.shape != load.shape:
        raise ValidationError(
            "load", f"expected the shape of values {values.shape}, got {load.shape}"
        )
    shortest = baseline.memory_steps if min_steps is None else min_steps
    if values.size < shortest + 1 or not np.all(np.isfinite(values) & np.isfinite(load)):
        return None
    if traffic_jumped(load) or float(np.max(load)) > BEYOND_LEARNT * baseline.load_high:
        return None
    phi, sd = baseline.persistence, baseline.innovation_sd
    residual = values - baseline.expected(load)
    innovations = np.minimum(residual[1:] - phi * residual[:-1], clip * sd)
    count = innovations.size
    starts = np.arange(count - shortest + 1)
    steps = np.arange(1, count + 1)[None, :] - starts[:, None]  # k-th step of each ramp
    weights = np.where(steps > 0, steps - phi * np.maximum(steps - 1, 0), 0.0)
    projection = weights @ innovations
    energy = np.einsum("ij,ij->i", weights, weights)
    z_scores = projection / (sd * np.sqrt(energy))
    best = int(np.argmax(z_scores))
    return RampEvidence(
        z=float(z_scores[best]),
        slope=float(projection[best] / energy[best]),
        steps=int(count - starts[best]),
        residual=float(residual[-1]),
    )


def recent_rate(residual: FloatArray, steps: int) -> float:
    """The rise per step of the last ``steps`` steps of ``residual`` (``steps + 1`` points), as
    a least-squares line. :func:`ramp_evidence`'s slope is right for a ramp that started
    inside its window but grows with the level of one that started before it (steady growth
    for days), which would bring a distant limit near; this one does not.

    >>> round(recent_rate(np.array([5.0, 0.0, 0.1, 0.2, 0.3]), 3), 6)
    0.1
    """
    tail = residual[-(steps + 1) :]
    if tail.size < 2:
        raise ValidationError("steps", f"expected at least 1 step of {residual.size - 1}")
    return float(np.polyfit(np.arange(tail.size, dtype=np.float64), tail, 1)[0])


def minutes_to_limit(limit: float, value: float, rate: float) -> float:
    """Steps until ``value`` reaches ``limit`` at ``rate`` a step (infinite without a rise).

    >>> minutes_to_limit(90.0, 50.0, 0.2), minutes_to_limit(90.0, 50.0, 0.0)
    (200.0, inf)
    """
    if rate <= 0.0:
        return math.inf
    return max(limit - value, 0.0) / rate


def rate_if_within(
    residual: FloatArray, steps: int, limit: float, value: float, horizon_steps: float
) -> float | None:
    """The ramp's :func:`recent_rate` if, at that rate, ``value`` reaches ``limit`` within
    ``horizon_steps``; ``None`` if it does not (slow growth, or none).

    >>> round(rate_if_within(np.array([0.0, 0.1, 0.2, 0.3]), 3, 90.0, 50.0, 1440.0), 6)
    0.1
    >>> rate_if_within(np.array([0.0, 0.01, 0.02, 0.03]), 3, 90.0, 50.0, 1440.0) is None
    True
    """
    rate = recent_rate(residual, steps)
    if minutes_to_limit(limit, value, rate) > horizon_steps:
        return None
    return rate
