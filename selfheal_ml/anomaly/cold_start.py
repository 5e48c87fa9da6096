"""Cold start: flag a gross, lasting departure while the real detectors still warm up.

The default ensemble needs hundreds of points before it scores anything (``NewExtreme`` and
``SequenceSurprise`` 300, the calibrators 50 more): with one point a minute that is five
hours; a service started fresh, with no stored history to re-warm from, is blind that long.
:class:`ColdStartScore` covers that gap and nothing else. From ``min_points`` learned values
until ``retire_points`` (then the ensemble is warm), it scores a value that lies beyond the
range seen so far by more than ``tolerance`` times that range, and only once ``persist``
consecutive values did so. A database that goes down (1 -> 0), latency that jumps twentyfold
or connections that drop to zero qualify within a few points; ordinary noise does not, since a
short history's range already spans it and a single wild value is not enough.

The range is floored at ``relative_floor`` times the level (and ``absolute_floor``), so a flat
series (``db_up`` = 1, always) is not alarmed by a tiny wiggle, nor a quantised one by its next
step: a p95 latency read off histogram buckets sits at 98 ms for minutes, then at 120 ms when
one more request lands in the next bucket (seen live on a healthy simulator). Half the level
keeps such steps quiet and still flags the departures above (to zero, or many times the level).
Beyond-range values are not learned (an outage must not widen what counts as normal), and once
it scores, a value inside the margin widens the range by at most ``walk`` times the spread per
point: learning every value inside the margin let a fault that ramps in walk the range along
with it (a cache whose hit ratio slid from 0.93 over two minutes, injected 90 s after a fresh
``serve``, was never flagged), while a daily traffic curve moves a level by well under 1 % of
it per point even at a 5 s interval. The
score is on the calibrated scale, as :class:`~selfheal_ml.anomaly.extreme_value.NewExtreme`'s:
``base_score`` plus the excess in range units.

>>> cold = ColdStartScore(min_points=5, retire_points=100, persist=2)
>>> [cold.update(1.0) for _ in range(6)]
[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
>>> [cold.update(0.0) for _ in range(3)]
[0.0, 10.0, 10.0]
>>> ramp = ColdStartScore(min_points=5, retire_points=100, persist=2)
>>> [ramp.update(1.0) for _ in range(6)] and [ramp.update(1.0 - 0.1 * k) for k in range(1, 11)]
[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.35, 9.55, 9.75, 9.95]
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt


class ColdStartScore:
    """Scores gross departures from the short history seen so far, until it is retired."""

    def __init__(
        self,
        min_points: int = 24,
        retire_points: int = 300,
        tolerance: float = 1.0,
        persist: int = 3,
        relative_floor: float = 0.5,
        absolute_floor: float = 1e-6,
        base_score: float = 8.0,
        walk: float = 0.01,
    ) -> None:
        if not 1 <= min_points <= retire_points:
            raise ValueError(
                f"min_points: expected 1 <= min_points <= retire_points ({retire_points}),"
                f" got {min_points}"
            )
        if persist < 1:
            raise ValueError(f"persist: expected >= 1, got {persist}")
        if walk <= 0.0:
            raise ValueError(f"walk: expected > 0, got {walk}")
        self.min_points = min_points
        self.retire_points = retire_points
        self.tolerance = tolerance
        self.persist = persist
        self.relative_floor = relative_floor
        self.absolute_floor = absolute_floor
        self.base_score = base_score
        self.walk = walk
        self._count = 0
        self._low = math.inf
        self._high = -math.inf
        self._streak = 0

    def active(self) -> bool:
        """Whether it scores now (enough history, and the real detectors not yet warm)."""
        return self.min_points <= self._count < self.retire_points

    def retired(self) -> bool:
        """Whether the real detectors have seen enough points to take over for good."""
        return self._count >= self.retire_points

    def _spread(self) -> float:
        level = max(abs(self._low), abs(self._high))
        return max(self._high - self._low, self.relative_floor * level, self.absolute_floor)

    def expected_range(self) -> tuple[float, float] | None:
        """The values it accepts as normal now (None when it is not active)."""
        if not self.active():
            return None
        margin = self.tolerance * self._spread()
        return self._low - margin, self._high + margin

    def update(self, value: float) -> float:
        """Score ``value`` against the history, then learn it unless it lies beyond."""
        if not self.active():
            self.learn(value)
            return 0.0
        spread = self._spread()
        margin = self.tolerance * spread
        excess = max(value - (self._high + margin), (self._low - margin) - value)
        if excess <= 0.0:
            self._streak = 0
            self.learn(value)
            return 0.0
        self._streak += 1
        if self._streak < self.persist:
            return 0.0
        return self.base_score + min((excess + margin) / spread, 1e6)

    def learn(self, value: float) -> None:
        """Add one value to the history (counted even after retirement, so it stays retired);
        once it scores, the range widens towards ``value`` by at most ``walk`` spreads."""
        if self.min_points <= self._count < self.retire_points:
            step = self.walk * self._spread()
            self._low = min(self._low, max(value, self._low - step))
            self._high = max(self._high, min(value, self._high + step))
        elif self._count < self.retire_points:
            self._low = min(self._low, value)
            self._high = max(self._high, value)
        self._count += 1

    def learn_many(self, values: npt.NDArray[np.float64]) -> None:
        """Add many values at once (re-warming from stored history)."""
        room = max(0, self.retire_points - self._count)
        if room and values.size:
            head = values[:room]
            self._low = min(self._low, float(head.min()))
            self._high = max(self._high, float(head.max()))
        self._count += int(values.size)
