"""The normal, random side of the simulation: noise processes and marketing campaigns.

Noise is Ornstein-Uhlenbeck (mean-reverting, autocorrelated) and stepped with its exact
discretisation, so a 30 s step and ten 3 s steps have the same statistics. Campaigns start as a
Poisson process per platform (about one every four days), last one to four hours, multiply the
platform's traffic by 1.3-1.8 with 15-minute ramps: benign spikes a detector should tolerate.

>>> import numpy as np
>>> process = OrnsteinUhlenbeck(sigma=np.ones(3), tau_s=600.0)
>>> process.steps(np.random.default_rng(0), np.full(4, 30.0)).shape
(4, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selfheal_ml.sim.effects import FloatArray

CAMPAIGN_RATE_PER_S = 1.0 / (4 * 86400.0)
CAMPAIGN_RAMP_S = 900.0
HOST_NOISE_SD = (2.0, 1.0, 1.0)  # percentage points of cpu, memory, disk
HOST_NOISE_TAU_S = 600.0


class OrnsteinUhlenbeck:
    """A vector of independent mean-zero OU processes with stationary std ``sigma``."""

    def __init__(self, sigma: FloatArray, tau_s: float | FloatArray) -> None:
        self.sigma = sigma
        self.tau_s = np.broadcast_to(np.asarray(tau_s, dtype=np.float64), sigma.shape)
        self.value: FloatArray = np.zeros_like(sigma)
        self._cached_dt_s = -1.0
        self._decay: FloatArray = np.ones_like(sigma)
        self._spread: FloatArray = np.zeros_like(sigma)

    def start(self, rng: np.random.Generator) -> None:
        """Draw the initial value from the stationary distribution."""
        self.value = self.sigma * rng.standard_normal(self.sigma.shape)

    def steps(self, rng: np.random.Generator, dts_s: FloatArray) -> FloatArray:
        """Advance by each of ``dts_s`` in turn; returns the values after each step (T, D).

        The normal draws are taken T x D at once, which is the same stream as T draws of D:
        one long advance equals many short ones.
        """
        shocks = rng.standard_normal((dts_s.size, self.sigma.size))
        values = np.empty_like(shocks)
        value = self.value
        for index, dt_s in enumerate(dts_s.tolist()):
            if dt_s != self._cached_dt_s:
                self._decay = np.exp(-dt_s / self.tau_s)
                self._spread = self.sigma * np.sqrt(1.0 - self._decay * self._decay)
                self._cached_dt_s = dt_s
            value = value * self._decay + self._spread * shocks[index]
            values[index] = value
        self.value = value
        return values


@dataclass
class CampaignState:
    """Running campaigns per platform (``end_s`` <= now means none) and their history."""

    start_s: FloatArray
    end_s: FloatArray
    multiplier: FloatArray
    history: list[tuple[int, float, float, float]] = field(default_factory=list)

    @classmethod
    def empty(cls, platforms: int) -> CampaignState:
        """No campaign running anywhere."""
        return cls(np.zeros(platforms), np.full(platforms, -1.0), np.ones(platforms))

    def steps(self, rng: np.random.Generator, begins_s: FloatArray, dts_s: FloatArray) -> None:
        """Maybe start campaigns during steps beginning at ``begins_s`` (T,) and lasting
        ``dts_s``, on platforms that have none running then."""
        platforms = self.start_s.size
        draws = rng.random((begins_s.size, 3 * platforms))  # one draw: step-major stream
        starts = draws[:, :platforms] < CAMPAIGN_RATE_PER_S * dts_s[:, None]
        lengths = 3600.0 + 3 * 3600.0 * draws[:, platforms : 2 * platforms]
        multipliers = 1.3 + 0.5 * draws[:, 2 * platforms :]
        for step, platform in np.argwhere(starts).tolist():
            t_s = float(begins_s[step])
            if self.end_s[platform] > t_s:
                continue
            length, multiplier = float(lengths[step, platform]), float(multipliers[step, platform])
            self.start_s[platform], self.end_s[platform] = t_s, t_s + length
            self.multiplier[platform] = multiplier
            self.history.append((platform, t_s, t_s + length, multiplier))

    def factor(self, times_s: FloatArray) -> FloatArray:
        """Traffic multiplier per platform at each of ``times_s``, shape (T, P): trapezoids
        (ramp up, hold, ramp down)."""
        factor = np.ones((times_s.size, self.start_s.size))
        earliest = float(times_s[0]) if times_s.size else 0.0
        for platform, start_s, end_s, multiplier in reversed(self.history):
            if end_s <= earliest:
                continue
            rising = (times_s - start_s) / CAMPAIGN_RAMP_S
            falling = (end_s - times_s) / CAMPAIGN_RAMP_S
            shape = np.minimum(np.maximum(np.minimum(rising, falling), 0.0), 1.0)
            factor[:, platform] += (multiplier - 1.0) * shape
        return factor


class NoiseState:
    """All the noise of the system as one OU vector (one random draw per step), with views:
    ``traffic`` and ``latency`` (log-scale, per endpoint), ``host`` (percentage points,
    platforms x [cpu, memory, disk]) and ``hit`` (cache hit ratio)."""

    def __init__(self, rng: np.random.Generator, platforms: int, endpoints: int) -> None:
        sigma = np.concatenate(
            [
                np.full(endpoints, 0.07),
                np.full(endpoints, 0.08),
                np.tile(HOST_NOISE_SD, platforms),
                [0.008],
            ]
        )
        tau = np.concatenate(
            [
                np.full(endpoints, 900.0),
                np.full(endpoints, 300.0),
                np.full(3 * platforms + 1, HOST_NOISE_TAU_S),
            ]
        )
        self._process = OrnsteinUhlenbeck(sigma, tau_s=tau)
        self._process.start(rng)
        self._endpoints = endpoints
        self._platforms = platforms

    def steps(self, rng: np.random.Generator, dts_s: FloatArray) -> FloatArray:
        """Advance by each of ``dts_s``; the noise after each step, (T, D)."""
        return self._process.steps(rng, dts_s)

    def current(self) -> FloatArray:
        """The noise now, as a batch of one step, (1, D)."""
        return self._process.value[None, :]

    def split(self, values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Views of a (T, D) batch: traffic (T, M), latency (T, M), host (T, P, 3), hit (T, 1)."""
        endpoints, platforms = self._endpoints, self._platforms
        host_end = 2 * endpoints + 3 * platforms
        return (
            values[:, :endpoints],
            values[:, endpoints : 2 * endpoints],
            values[:, 2 * endpoints : host_end].reshape(-1, platforms, 3),
            values[:, host_end:],
        )
