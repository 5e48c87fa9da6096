"""Sequence surprise: how unexpected is this value after the last few values?

A light stand-in for HTM's prediction error and CAD-OSE's context novelty. Values are quantised
on a grid fixed after warm-up (``levels`` steps spanning the 2nd-98th percentile of the warm-up
values; values outside get bins of their own, so new levels stay new). A table counts, for each
context of the previous ``order`` bins, which bin came next. The raw score is ``1 - P(bin |
context)``, neighbouring bins counting half: 0 for a well-worn transition, 1 for one never seen.
Wrap it in :class:`~selfheal_ml.anomaly.calibration.Calibrated` to get calibrated scores.

The table is sparse and flat: one :class:`~selfheal_ml.anomaly.sparse_counts.SparseCounts`
from a (context, next bin) key to its count and one from a context key to its total, each key a
single integer (:func:`context_key`, :func:`pair`, a bijection, so no two entries share a key).
A dict per context holding boxed counts took 60-70 KB per series; the sorted arrays take 16
bytes an entry (a fifth of that) and hold the same counts, so the scores are the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector
from selfheal_ml.anomaly.sparse_counts import SparseCounts


def natural(level: int) -> int:
    """Zig-zag map of the integers onto the naturals (0, -1, 1, -2 -> 0, 1, 2, 3).

    >>> [natural(level) for level in (0, -1, 1, -2)]
    [0, 1, 2, 3]
    """
    return 2 * level if level >= 0 else -2 * level - 1


def pair(first: int, second: int) -> int:
    """Cantor's pairing of two naturals: one natural, different for every pair.

    >>> sorted({pair(a, b) for a in range(20) for b in range(20)}) == sorted(
    ...     pair(a, b) for a in range(20) for b in range(20))
    True
    """
    total = first + second
    return total * (total + 1) // 2 + second


def context_key(context: tuple[int, ...]) -> int:
    """One natural for a context of bins (fixed length: different contexts, different keys).

    >>> context_key(()), context_key((0,)) != context_key((1,))
    (0, True)
    """
    key = 0
    for level in context:
        key = pair(key, natural(level))
    return key


class SequenceSurprise(Detector):
    """``1 - P(next bin | previous `order` bins)`` from online transition counts.

    >>> detector = SequenceSurprise(levels=4, order=1, warmup=8)
    >>> for step in range(60):
    ...     detector.learn_one({"value": float(step % 4)})
    >>> detector.score_one({"value": 0.0}), detector.score_one({"value": 2.0})
    (0.0, 1.0)
    """

    def __init__(
        self, levels: int = 5, order: int = 2, warmup: int = 300, feature: str = VALUE_KEY
    ) -> None:
        self.levels = levels
        self.order = order
        self.warmup = warmup
        self.feature = feature
        self._warmup_values: list[float] = []
        self._origin = 0.0
        self._step = 0.0
        self._context: tuple[int, ...] = ()
        self._context_key = 0  # context_key(self._context)
        self._counts = SparseCounts()  # pair(context key, natural(bin)) -> count
        self._totals = SparseCounts()  # context key -> points seen after it

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, converting a snapshot's nested table (before the flat one) to flat."""
        table = state.pop("_table", None)
        self.__dict__.update(state)
        if table is not None:
            self._counts, self._totals = SparseCounts(), SparseCounts()
            for context, counts in table.items():
                key = context_key(context)
                for level, count in counts.items():
                    if level == -(2**62):  # the old table's total entry
                        self._totals.add(key, count)
                    else:
                        self._counts.add(pair(key, natural(level)), count)
            self._context_key = context_key(self._context)

    def _bin(self, value: float) -> int:
        return math.floor((value - self._origin) / self._step)

    def warmed_up(self) -> bool:
        return self._step != 0.0

    def reads_value_and_time_only(self) -> bool:
        return self.feature == VALUE_KEY

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return 0.0
        return self.score_value(float(value), 0.0)

    def score_value(self, value: float, ts_s: float) -> float:
        if self._step == 0.0:
            return 0.0
        context = self._context_key
        total = self._totals.get(context)
        if not total:
            return 1.0
        level = math.floor((value - self._origin) / self._step)  # _bin, inlined
        counts = self._counts
        # pair(context, natural(bin)), inlined for the bin and its two neighbours
        here = 2 * level if level >= 0 else -2 * level - 1
        below = 2 * level - 2 if level >= 1 else -2 * level + 1
        above = 2 * level + 2 if level >= -1 else -2 * level - 3
        at, under, over = counts.get_three(
            (context + here) * (context + here + 1) // 2 + here,
            (context + below) * (context + below + 1) // 2 + below,
            (context + above) * (context + above + 1) // 2 + above,
        )
        seen = at + 0.5 * (under + over)
        return max(0.0, 1.0 - seen / total)

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return
        self.learn_value(float(value), 0.0)

    def learn_value(self, value: float, ts_s: float) -> None:
        if self._step == 0.0:
            self._warm_up(value)
            return
        level = math.floor((value - self._origin) / self._step)  # _bin, inlined
        context = self._context_key
        here = 2 * level if level >= 0 else -2 * level - 1  # natural(level), inlined
        self._counts.add((context + here) * (context + here + 1) // 2 + here, 1)  # pair
        self._totals.add(context, 1)
        if self.order:
            self._context = new_context = (*self._context[1:], level)
            key = 0  # context_key(new_context), inlined (hot path)
            for earlier in new_context:
                step = 2 * earlier if earlier >= 0 else -2 * earlier - 1
                key = (key + step) * (key + step + 1) // 2 + step
            self._context_key = key

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """``score_value`` then ``learn_value`` per point, the state in locals once the grid is
        fixed (the warm-up goes point by point); the same integers and floats."""
        scores: list[float] = []
        start, size = 0, len(values)
        while self._step == 0.0 and start < size:
            scores.append(0.0)
            self._warm_up(values[start])
            start += 1
        if start == size:
            return scores
        origin, step, order = self._origin, self._step, self.order
        context, key = self._context, self._context_key
        get, get_three = self._totals.get, self._counts.get_three
        count, total_up = self._counts.add, self._totals.add
        floor = math.floor
        for value in values[start:]:
            total = get(key)
            level = floor((value - origin) / step)
            here = 2 * level if level >= 0 else -2 * level - 1
            if not total:
                scores.append(1.0)
            else:
                below = 2 * level - 2 if level >= 1 else -2 * level + 1
                above = 2 * level + 2 if level >= -1 else -2 * level - 3
                at, under, over = get_three(
                    (key + here) * (key + here + 1) // 2 + here,
                    (key + below) * (key + below + 1) // 2 + below,
                    (key + above) * (key + above + 1) // 2 + above,
                )
                scores.append(max(0.0, 1.0 - (at + 0.5 * (under + over)) / total))
            count((key + here) * (key + here + 1) // 2 + here, 1)
            total_up(key, 1)
            if order:
                context = (*context[1:], level)
                key = 0
                for earlier in context:
                    step_key = 2 * earlier if earlier >= 0 else -2 * earlier - 1
                    key = (key + step_key) * (key + step_key + 1) // 2 + step_key
        self._context, self._context_key = context, key
        return scores

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Exact and vectorised: every (context, next bin) pair is counted with ``np.unique``."""
        if self.feature != VALUE_KEY:
            super().learn_many(values, timestamps_s)
            return
        start = 0
        while self._step == 0.0 and start < values.size:
            self._warm_up(float(values[start]))
            start += 1
        if start >= values.size:
            return
        levels = np.floor((values[start:] - self._origin) / self._step).astype(np.int64)
        history = np.concatenate([np.asarray(self._context, dtype=np.int64), levels])
        grams = np.lib.stride_tricks.sliding_window_view(history, self.order + 1)
        unique, counts = np.unique(grams, axis=0, return_counts=True)
        table, totals = self._counts, self._totals
        for gram, count in zip(unique.tolist(), counts.tolist(), strict=True):
            context = context_key(tuple(gram[:-1]))
            table.add(pair(context, natural(gram[-1])), count)
            totals.add(context, count)
        self._context = tuple(history[history.size - self.order :].tolist()) if self.order else ()
        self._context_key = context_key(self._context)

    def _warm_up(self, value: float) -> None:
        self._warmup_values.append(value)
        if len(self._warmup_values) < self.warmup:
            return
        ordered = sorted(self._warmup_values)
        low = ordered[int(0.02 * (len(ordered) - 1))]
        high = ordered[int(0.98 * (len(ordered) - 1))]
        span = max(high - low, 1e-6 * max(abs(high), 1.0))
        self._origin, self._step = low, span / self.levels
        self._context = tuple(self._bin(v) for v in self._warmup_values[-self.order :])
        self._context = self._context[len(self._context) - self.order :] if self.order else ()
        self._context_key = context_key(self._context)
        self._warmup_values = []
