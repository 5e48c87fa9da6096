"""New-extreme detector: a value beyond everything seen in the recent past is anomalous.

Numenta's NAB detector adds this "spatial anomaly" rule next to its sequence model: whatever the
model says, a value above the highest (or below the lowest) of the last ``memory`` values, by more
than ``tolerance`` times that range, is flagged. Its score is already on the calibrated scale: a
new extreme scores ``base_score`` plus its excess in range units, so it clears any sensible alert
threshold. The minimum and maximum are kept with monotonic deques (amortised O(1)).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector, finite_or_zero


class NewExtreme(Detector):
    """Scores values outside the recent ``[min, max]`` range widened by ``tolerance``.

    >>> detector = NewExtreme(warmup=5)
    >>> for value in [1.0, 3.0, 2.0, 3.0, 1.0, 2.0]:
    ...     detector.learn_one({"value": value})
    >>> detector.score_one({"value": 2.5}), detector.score_one({"value": 5.0})
    (0.0, 9.0)
    """

    output_is_calibrated = True

    def __init__(
        self,
        memory: int = 20_000,
        warmup: int = 300,
        tolerance: float = 0.0,
        base_score: float = 8.0,
        feature: str = VALUE_KEY,
    ) -> None:
        self.memory = memory
        self.warmup = warmup
        self.tolerance = tolerance
        self.base_score = base_score
        self.feature = feature
        self._count = 0
        self._maxima: deque[tuple[int, float]] = deque()
        self._minima: deque[tuple[int, float]] = deque()

    def warmed_up(self) -> bool:
        return self._count >= self.warmup

    def reads_value_and_time_only(self) -> bool:
        return self.feature == VALUE_KEY

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return 0.0
        return self.score_value(float(value), 0.0)

    def score_value(self, value: float, ts_s: float) -> float:
        if self._count < self.warmup:
            return 0.0
        high = self._maxima[0][1]
        low = self._minima[0][1]
        spread = high - low
        margin = self.tolerance * spread
        if low - margin <= value <= high + margin:
            return 0.0
        excess = (value - high) if value > high else (low - value)
        relative = excess / spread if spread > 0.0 else 1.0
        return finite_or_zero(self.base_score + min(relative, 1e6))

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return
        self.learn_value(float(value), 0.0)

    def learn_value(self, value: float, ts_s: float) -> None:
        index = self._count
        self._count = index + 1
        maxima, minima = self._maxima, self._minima
        entry = (index, value)  # one tuple for both deques (immutable, so shared safely)
        while maxima and maxima[-1][1] <= value:
            maxima.pop()
        maxima.append(entry)
        while minima and minima[-1][1] >= value:
            minima.pop()
        minima.append(entry)
        oldest = index - self.memory
        if maxima[0][0] <= oldest:
            maxima.popleft()
        if minima[0][0] <= oldest:
            minima.popleft()

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Exact and vectorised once the batch covers the memory: the deques then hold the
        values strictly above (below) everything after them, found with reversed running
        maxima (minima)."""
        if self.feature != VALUE_KEY or values.size < self.memory:
            super().learn_many(values, timestamps_s)
            return
        window = values[values.size - self.memory :]
        first_index = self._count + values.size - self.memory
        self._count += values.size
        tail_max = np.maximum.accumulate(window[::-1])[::-1]
        tail_min = np.minimum.accumulate(window[::-1])[::-1]
        later_max = np.append(tail_max[1:], -np.inf)
        later_min = np.append(tail_min[1:], np.inf)
        for kept, store in ((window > later_max, self._maxima), (window < later_min, self._minima)):
            positions = np.flatnonzero(kept)
            store.clear()
            store.extend(
                zip((positions + first_index).tolist(), window[positions].tolist(), strict=True)
            )

    def expected_range(self) -> tuple[float, float] | None:
        if self._count < self.warmup:
            return None
        return self._minima[0][1], self._maxima[0][1]
