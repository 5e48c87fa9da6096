"""Sequence surprise: how unexpected is this value after the last few values?

A light stand-in for HTM's prediction error and CAD-OSE's context novelty. Values are quantised
on a grid fixed after warm-up (``levels`` steps spanning the 2nd-98th percentile of the warm-up
values; values outside get bins of their own, so new levels stay new). A table counts, for each
context of the previous ``order`` bins, which bin came next. The raw score is ``1 - P(bin |
context)``, neighbouring bins counting half: 0 for a well-worn transition, 1 for one never seen.
Wrap it in :class:`~selfheal_ml.anomaly.calibration.Calibrated` to get calibrated scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector

TOTAL_KEY = -(2**62)  # the table entry holding how often a context was seen


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
        self._table: dict[tuple[int, ...], dict[int, int]] = {}

    def _bin(self, value: float) -> int:
        return math.floor((value - self._origin) / self._step)

    def warmed_up(self) -> bool:
        return self._step != 0.0

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0 or self._step == 0.0:
            return 0.0
        counts = self._table.get(self._context)
        if counts is None:
            return 1.0
        level = math.floor((float(value) - self._origin) / self._step)  # _bin, inlined
        seen = counts.get(level, 0) + 0.5 * (counts.get(level - 1, 0) + counts.get(level + 1, 0))
        return max(0.0, 1.0 - seen / counts[TOTAL_KEY])

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)  # read_value, inlined (hot path)
        if value is None or value - value != 0.0:
            return
        value = float(value)
        if self._step == 0.0:
            self._warm_up(value)
            return
        level = math.floor((value - self._origin) / self._step)  # _bin, inlined
        counts = self._table.get(self._context)
        if counts is None:
            counts = self._table[self._context] = {TOTAL_KEY: 0}
        counts[level] = counts.get(level, 0) + 1
        counts[TOTAL_KEY] += 1
        self._context = (*self._context[1:], level) if self.order else ()

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
        table = self._table
        for gram, count in zip(unique.tolist(), counts.tolist(), strict=True):
            context = tuple(gram[:-1])
            entry = table.get(context)
            if entry is None:
                entry = table[context] = {TOTAL_KEY: 0}
            entry[gram[-1]] = entry.get(gram[-1], 0) + count
            entry[TOTAL_KEY] += count
        self._context = tuple(history[history.size - self.order :].tolist()) if self.order else ()

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
        self._warmup_values = []
