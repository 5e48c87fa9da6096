"""O(1) rolling statistics over the last ``size`` observations, the building blocks of detectors.

:class:`RollingMoments` keeps a ring buffer with running sums (re-summed every ``8 size`` updates
so float error cannot build up), giving mean and standard deviation in constant time.

>>> moments = RollingMoments(3)
>>> for value in [1.0, 2.0, 3.0, 4.0]:
...     moments.update(value)
>>> moments.count, moments.mean(), round(moments.std(), 4)
(3, 3.0, 0.8165)
"""

from __future__ import annotations

import math


class RollingMoments:
    """Mean and (population) standard deviation of the last ``size`` values."""

    __slots__ = ("_buffer", "_index", "_since_resum", "_sum_squares", "count", "size", "total")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size: expected >= 1, got {size}")
        self.size = size
        self.count = 0
        self._buffer: list[float] = []
        self._index = 0
        self.total = 0.0
        self._sum_squares = 0.0
        self._since_resum = 0

    def update(self, value: float) -> None:
        """Add ``value``, dropping the oldest one once the window is full."""
        if self.count < self.size:
            self._buffer.append(value)
            self.count += 1
        else:
            old = self._buffer[self._index]
            self._buffer[self._index] = value
            self._index = (self._index + 1) % self.size
            self.total -= old
            self._sum_squares -= old * old
        self.total += value
        self._sum_squares += value * value
        self._since_resum += 1
        if self._since_resum >= 8 * self.size:
            self.total = math.fsum(self._buffer)
            self._sum_squares = math.fsum(v * v for v in self._buffer)
            self._since_resum = 0

    def mean(self) -> float:
        """Mean of the window (0 when empty)."""
        return self.total / self.count if self.count else 0.0

    def std(self) -> float:
        """Population standard deviation of the window (0 when fewer than two values)."""
        if self.count < 2:
            return 0.0
        mean = self.total / self.count
        variance = self._sum_squares / self.count - mean * mean
        return math.sqrt(variance) if variance > 0.0 else 0.0

    def last(self) -> float:
        """The most recent value (0 when empty)."""
        if not self.count:
            return 0.0
        return (
            self._buffer[(self._index - 1) % self.size]
            if self.count == self.size
            else (self._buffer[-1])
        )

    def values(self) -> list[float]:
        """The window, oldest first."""
        return self._buffer[self._index :] + self._buffer[: self._index]
