"""Block windows: a series downsampled into block means, seen through a sliding window.

The shape-based detectors (:mod:`.contextual_neighbours`, :mod:`.adaptive_resonance`) compare
*windows* of recent history rather than single values. Comparing a window at every point costs a
vector operation per point; ARTime (Hampton, 2022, NAB entry "ARTime") instead averages the
stream over short blocks and works on windows of block means, which both smooths noise and
divides the cost by the block length. :class:`BlockWindows` does that bookkeeping: ``add(value)``
returns True when a block completes; once ``full()``, ``window()`` is the last ``dimension``
block means (oldest first) as a NumPy vector.

>>> blocks = BlockWindows(block=2, dimension=3)
>>> [blocks.add(v) for v in [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]]
[False, True, False, True, False, True]
>>> blocks.full(), blocks.window().tolist()
(True, [2.0, 6.0, 10.0])
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt


class BlockWindows:
    """Means of consecutive blocks of ``block`` values; the last ``dimension`` of them."""

    def __init__(self, block: int, dimension: int) -> None:
        if block < 1 or dimension < 1:
            raise ValueError(f"block, dimension: expected >= 1, got {block}, {dimension}")
        self.block = block
        self.dimension = dimension
        self._sum = 0.0
        self.filled = 0  # values in the current, incomplete block
        self._means: deque[float] = deque(maxlen=dimension)
        self.completed = 0  # blocks completed so far

    def add(self, value: float) -> bool:
        """Add one value; True when it completes a block."""
        self._sum += value
        self.filled += 1
        if self.filled < self.block:
            return False
        self._means.append(self._sum / self.block)
        self._sum = 0.0
        self.filled = 0
        self.completed += 1
        return True

    def full(self) -> bool:
        """Whether ``dimension`` blocks were completed (a whole window exists)."""
        return len(self._means) == self.dimension

    def pending(self, value: float) -> npt.NDArray[np.float64] | None:
        """The window that would end with the block ``value`` completes, or None if it does not
        complete one (so a value can be scored before it is learned)."""
        values = self.pending_values(value)
        return None if values is None else np.array(values)

    def pending_values(self, value: float) -> list[float] | None:
        """:meth:`pending` as a list of floats (cheaper for small windows)."""
        if self.filled + 1 < self.block or len(self._means) + 1 < self.dimension:
            return None
        latest = (self._sum + value) / self.block
        return [*list(self._means)[1 - self.dimension :], latest][-self.dimension :]

    def window_values(self) -> list[float]:
        """:meth:`window` as a list of floats."""
        return list(self._means)

    def window(self) -> npt.NDArray[np.float64]:
        """The last ``dimension`` block means, oldest first."""
        return np.fromiter(self._means, dtype=np.float64, count=len(self._means))
