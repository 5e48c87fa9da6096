"""Rolling median / interquartile-range score: a robust z-score against the recent window.

The median and the interquartile range (IQR / 1.349 estimates the standard deviation of normal
data) of the last ``window`` values ignore the outliers they are meant to find, unlike a mean and
standard deviation. The window is kept sorted with ``bisect`` (O(window) memmove in C per point,
fast for windows of a few hundred values).
"""

from __future__ import annotations

import bisect
import math
from array import array
from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector

IQR_TO_STD = 1.349


class RollingMedianScore(Detector):
    """``|x - median| / scale`` over the last ``window`` values; 0 until ``warmup`` values.

    ``scale`` is IQR / 1.349, floored at ``relative_floor`` times the median's magnitude so a
    flat series does not turn every tiny wiggle into a huge score.

    >>> detector = RollingMedianScore(window=50, warmup=10)
    >>> for step in range(50):
    ...     detector.learn_one({"value": 10.0 + (step % 5)})
    >>> detector.score_one({"value": 12.0}), detector.score_one({"value": 40.0}) > 5
    (0.0, True)
    >>> [round(bound, 2) for bound in detector.expected_range()]  # 12 +- 3 * IQR(2) / 1.349
    [7.55, 16.45]
    """

    def __init__(
        self,
        window: int = 240,
        warmup: int = 30,
        width: float = 3.0,
        relative_floor: float = 1e-3,
        feature: str = VALUE_KEY,
    ) -> None:
        self.window = window
        self.warmup = warmup
        self.width = width
        self.relative_floor = relative_floor
        self.feature = feature
        # array("d"), not a deque and a list of boxed floats: 16 bytes a value instead of
        # about 40, the same float64 values (popping the oldest moves 2 KB: nothing)
        self._arrival = array("d")
        self._sorted = array("d")
        self._stats: tuple[float, float] | None = None  # (median, scale) until the next learn

    def _median_and_scale(self) -> tuple[float, float]:
        stats = self._stats
        if stats is None:
            stats = self._stats = self._compute_median_and_scale()
        return stats

    def _compute_median_and_scale(self) -> tuple[float, float]:
        ordered = self._sorted
        count = len(ordered)
        middle = count // 2
        median = ordered[middle] if count % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])
        spread = (ordered[(3 * count) // 4] - ordered[count // 4]) / IQR_TO_STD
        size = abs(median)  # max(size, 1e-9) and max(spread, floor) as comparisons, as max
        floor = self.relative_floor * (1e-9 if size < 1e-9 else size)
        return median, floor if floor > spread else spread

    def warmed_up(self) -> bool:
        return len(self._sorted) >= min(self.warmup, self.window)

    def reads_value_and_time_only(self) -> bool:
        return self.feature == VALUE_KEY

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return 0.0
        return self.score_value(float(value), 0.0)

    def score_value(self, value: float, ts_s: float) -> float:
        if len(self._sorted) < min(self.warmup, self.window):
            return 0.0
        stats = self._stats  # _median_and_scale, inlined
        if stats is None:
            stats = self._stats = self._compute_median_and_scale()
        score = abs(value - stats[0]) / stats[1]
        return score if 0.0 < score < math.inf else 0.0  # finite_or_zero, inlined

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return
        self.learn_value(float(value), 0.0)

    def learn_value(self, value: float, ts_s: float) -> None:
        self._stats = None
        arrival, ordered = self._arrival, self._sorted
        arrival.append(value)
        insort(ordered, value)
        if len(arrival) > self.window:
            del ordered[bisect_left(ordered, arrival.pop(0))]

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """``score_value`` then ``learn_value`` per point, the state in locals (same values)."""
        arrival, ordered, window = self._arrival, self._sorted, self.window
        needed, stats = min(self.warmup, self.window), self._stats
        relative_floor, inf = self.relative_floor, math.inf
        insort, bisect_left = bisect.insort, bisect.bisect_left
        scores = []
        for value in values:
            if len(ordered) < needed:
                scores.append(0.0)
            else:
                if stats is None:  # _compute_median_and_scale, inlined
                    count = len(ordered)
                    middle = count // 2
                    median = (
                        ordered[middle]
                        if count % 2
                        else 0.5 * (ordered[middle - 1] + ordered[middle])
                    )
                    spread = (ordered[(3 * count) // 4] - ordered[count // 4]) / IQR_TO_STD
                    stats = median, max(spread, relative_floor * max(abs(median), 1e-9))
                score = abs(value - stats[0]) / stats[1]
                scores.append(score if 0.0 < score < inf else 0.0)
            stats = None
            arrival.append(value)
            insort(ordered, value)
            if len(arrival) > window:
                del ordered[bisect_left(ordered, arrival.pop(0))]
        self._stats = stats
        return scores

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Exact: the state is the last ``window`` values."""
        if self.feature != VALUE_KEY:
            super().learn_many(values, timestamps_s)
            return
        kept = self.window if values.size >= self.window else values.size
        recent = [*self._arrival, *values[values.size - kept :].tolist()][-self.window :]
        self._arrival = array("d", recent)
        self._sorted = array("d", sorted(recent))
        self._stats = None

    def expected_range(self) -> tuple[float, float] | None:
        if len(self._sorted) < min(self.warmup, self.window):
            return None
        stats = self._stats  # _median_and_scale, inlined (asked on every point)
        if stats is None:
            stats = self._stats = self._compute_median_and_scale()
        median, scale = stats
        return median - self.width * scale, median + self.width * scale
