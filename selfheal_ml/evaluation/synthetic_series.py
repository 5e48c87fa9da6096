"""Synthetic series unlike the NAB files, with labelled anomalies, for tests.

NAB's files are regular (one point every 5 minutes), long (4 000-22 000 points) and mostly
continuous-valued. The series a web backend produces are often none of that. Each generator
here returns a :class:`SyntheticSeries` (epoch-second timestamps, values, and the labelled
anomalies as inclusive ``(first_row, last_row)`` windows) for one of those shapes:

- :func:`irregular_with_gaps`: jittered sampling with hour-long collection gaps;
- :func:`low_counts`: small Poisson counts (errors per interval) with a burst of errors;
- :func:`flat_stretches`: a value that stays exactly constant for long stretches and steps;
- :func:`short_series`: under 1 500 points in all (a new service, a renamed metric);
- :func:`heavy_tailed_bursts`: Student-t noise with a few large, short, *benign* bursts early on
  and a labelled anomaly well after one of them (a detector must not stay silenced by a burst).

All are pure functions of their seed.

>>> series = short_series(seed=1)
>>> len(series.values) < 1500, series.anomalies
(True, [(900, 909)])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

START_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY_S = 86_400.0


@dataclass(frozen=True)
class SyntheticSeries:
    """A generated series and its labelled anomaly windows (inclusive row ranges)."""

    name: str
    timestamps_s: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    anomalies: list[tuple[int, int]]


def _daily(times_s: npt.NDArray[np.float64], amplitude: float) -> npt.NDArray[np.float64]:
    return amplitude * np.sin(2.0 * np.pi * (times_s - START_S) / DAY_S)


def irregular_with_gaps(seed: int, n_points: int = 4000) -> SyntheticSeries:
    """Sampling every 60 s +- 50 %, three gaps of 1-3 hours; a latency jump at 80 %."""
    rng = np.random.default_rng(seed)
    steps = rng.uniform(30.0, 90.0, n_points)
    for row in rng.choice(np.arange(500, int(0.7 * n_points)), 3, replace=False):
        steps[row] += rng.uniform(3600.0, 3 * 3600.0)
    times = START_S + np.cumsum(steps)
    values = 120.0 + _daily(times, 20.0) + rng.normal(0.0, 4.0, n_points)
    first = int(0.8 * n_points)
    values[first : first + 20] += 150.0
    return SyntheticSeries("irregular_with_gaps", times, values, [(first, first + 19)])


def low_counts(seed: int, n_points: int = 4000) -> SyntheticSeries:
    """Errors per minute ~ Poisson(0.3); a burst of Poisson(12) for 10 minutes at 75 %."""
    rng = np.random.default_rng(seed)
    times = START_S + 60.0 * np.arange(n_points, dtype=np.float64)
    values = rng.poisson(0.3, n_points).astype(np.float64)
    first = int(0.75 * n_points)
    values[first : first + 10] = rng.poisson(12.0, 10)
    return SyntheticSeries("low_counts", times, values, [(first, first + 9)])


def flat_stretches(seed: int, n_points: int = 5000) -> SyntheticSeries:
    """A constant that steps to a new constant every ~1 000 points (ordinary reconfigurations
    after a labelled-free warm-up); a 30-point excursion at 85 %."""
    rng = np.random.default_rng(seed)
    times = START_S + 60.0 * np.arange(n_points, dtype=np.float64)
    levels = np.repeat(rng.choice([8.0, 16.0, 32.0], 6), 1000)[:n_points]
    values = levels.copy()
    first = int(0.85 * n_points)
    values[first : first + 30] = levels[first] * 4.0
    return SyntheticSeries("flat_stretches", times, values, [(first, first + 29)])


def short_series(seed: int, n_points: int = 1200) -> SyntheticSeries:
    """1 200 one-minute points of a noisy level; a spike of 10 points at row 900."""
    rng = np.random.default_rng(seed)
    times = START_S + 60.0 * np.arange(n_points, dtype=np.float64)
    values = 50.0 + rng.normal(0.0, 2.0, n_points)
    values[900:910] += 40.0
    return SyntheticSeries("short_series", times, values, [(900, 909)])


def heavy_tailed_bursts(seed: int, n_points: int = 6000) -> SyntheticSeries:
    """Student-t (3 degrees of freedom) noise, benign bursts of 5 points at rows 1 500 and
    2 500 (about eighty times the usual spread), and a labelled sustained shift at row 3 200,
    700 points after the last burst (past the gate's memory, inside the calibration's and the
    range's): a burst must not silence the series."""
    rng = np.random.default_rng(seed)
    times = START_S + 60.0 * np.arange(n_points, dtype=np.float64)
    values = 200.0 + 5.0 * rng.standard_t(3.0, n_points)
    for row in (1500, 2500):
        values[row : row + 5] += 400.0
    values[3200:3260] += 80.0
    return SyntheticSeries("heavy_tailed_bursts", times, values, [(3200, 3259)])


GENERATORS = (irregular_with_gaps, low_counts, flat_stretches, short_series, heavy_tailed_bursts)
"""Every generator, for tests that run the same checks over all of them."""
