"""Adaptive resonance: does the recent shape resonate with a category learned so far?

The idea behind ARTime (Hampton, "ARTime", NAB entry and repository markNZed/ARTime, 2022), which
builds on Fuzzy ART (Carpenter, Grossberg & Rosen, "Fuzzy ART: fast stable learning and
categorization of analog patterns by an adaptive resonance system", Neural Networks 4, 1991):
the stream is downsampled into block means (:mod:`.block_windows`), each window of the last
``dimension`` block means is scaled to [0, 1] and complement coded ``I = (a, 1 - a)``, and
presented to a set of categories (weight vectors ``w``). The categories compete by the choice
function ``T = |I ^ w| / (alpha + |w|)`` (``^`` is the element-wise minimum, ``|.|`` the sum);
the winner *resonates* when its match ``|I ^ w| / |a|`` reaches the ``vigilance`` and then
learns ``w <- rate (I ^ w) + (1 - rate) w``; when no category resonates, the window founds a new
category. So normal shapes end up inside a few categories' hyper-boxes and a shape that fits none
is novel.

The raw score is ``1 - best match``: 0 inside a learned category, growing with the distance to the
nearest one (ARTime flags the creation of a new category; the graded score keeps the
information how far off the window is and suits the likelihood calibration in front of the alert
policy, :class:`~.calibration.Calibrated`). The [0, 1] scaling is fixed at the end of the warm-up
(the warm-up's block-mean range widened by ``margin`` on each side; values beyond are clipped),
as ARTime fixes its scaling on the probationary period. Once ``capacity`` categories exist, a
new one replaces the least recently resonating one. Between completed blocks the last block's
score is held, so the cost is one small matrix operation per block.

The category weights are float32 (issue 20: 64 bytes a category instead of 128, about 6 KB of
a series that founds a hundred); a window's code, the overlaps, their sizes and the norms stay
float64 (a float32 weight compares with a float64 code as the float64 of its value, so a
category founded on a window matches it within float32 rounding, a raw score of about 1e-8
where it was 0). Snapshots
of the float64 layout are converted on unpickling (:meth:`AdaptiveResonance.__setstate__`).

>>> detector = AdaptiveResonance(block=1, dimension=4, warmup=40)
>>> for step in range(300):
...     detector.learn_one({"value": float(step % 6)})
>>> detector.score_one({"value": 0.0}) < 1e-6, detector.score_one({"value": 5.0}) > 0.1
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector
from selfheal_ml.anomaly.block_windows import BlockWindows

REPLAY_POINTS = 4000  # history points replayed one by one by learn_many (the rest is skipped)
Presentation = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
Weights = npt.NDArray[np.float32] | npt.NDArray[np.float64]  # float64 only from old snapshots
WEIGHT_DTYPE = np.float32  # the category rows (issue 20); snapshots before it hold float64
CHOICE_ALPHA = 1e-3  # Fuzzy ART's choice parameter: small favours the most specific category
# the reductions ``.sum()`` and ``.max()`` call, without the Python wrapper in between (the same
# C loops, so the same sums: a block's NumPy calls on small arrays are mostly fixed cost)
_add, _largest = np.add.reduce, np.maximum.reduce


class AdaptiveResonance(Detector):
    """Fuzzy ART categories over windows of block means; raw score ``1 - best match``."""

    def __init__(
        self,
        block: int = 4,
        dimension: int = 8,
        vigilance: float = 0.9,
        rate: float = 0.1,
        capacity: int = 128,
        warmup: int = 300,
        margin: float = 0.1,
        feature: str = VALUE_KEY,
    ) -> None:
        self.block = block
        self.dimension = dimension
        self.vigilance = vigilance
        self.rate = rate
        self.capacity = capacity
        self.warmup = warmup
        self.margin = margin
        self.feature = feature
        self._blocks = BlockWindows(block, dimension)
        # one row per category founded so far, grown when one is founded (issue 20: a series'
        # bytes; the full ``capacity`` rows up front cost 18 KB a series, most of it unused
        # where a series has few shapes). Snapshots from before hold ``capacity`` rows, which
        # works the same: only the first ``_categories`` rows are ever read.
        self._weights: Weights = np.zeros((0, 2 * dimension), dtype=WEIGHT_DTYPE)
        self._norms = np.zeros(0)  # |w| of each category (float64 sums of the float32 rows)
        self._last_used = np.zeros(0)
        self._categories = 0
        self._seen = 0
        self._low = 0.0
        self._span = 0.0  # 0 until the scaling is fixed
        self._warmup_means: list[float] = []
        self._held = 0.0
        self._pending: tuple[float, float, Presentation | None] | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a snapshot's float64 weights (before issue 20) become float32 and their
        norms are re-summed from the rounded rows, so norms and rows agree as they do online."""
        self.__dict__.update(state)
        if self._weights.dtype != WEIGHT_DTYPE:
            self._weights = self._weights.astype(WEIGHT_DTYPE)
            self._norms = _add(self._weights, 1, np.float64)

    def warmed_up(self) -> bool:
        return self._span > 0.0 and self._categories > 0

    def _code(self, window: list[float]) -> npt.NDArray[np.float64]:
        low, span = self._low, self._span
        scaled = [(mean - low) / span for mean in window]
        # min(max(unit, 0.0), 1.0) without the two builtin calls per element (same values)
        scaled = [0.0 if unit < 0.0 else 1.0 if unit > 1.0 else unit for unit in scaled]
        return np.array(scaled + [1.0 - unit for unit in scaled])

    def _present(self, window: list[float]) -> Presentation:
        """The window's code, its overlap with every category and the overlaps' sizes."""
        code = self._code(window)
        weights, count = self._weights, self._categories
        if len(weights) != count:  # only an old snapshot's layout has unused rows
            weights = weights[:count]
        overlap: npt.NDArray[np.float64] = np.minimum(weights, code)
        sizes: npt.NDArray[np.float64] = _add(overlap, 1)  # overlap.sum(axis=1), one call less
        return code, overlap, sizes

    def _evaluate(self, value: float) -> tuple[float, Presentation | None]:
        if self._categories == 0 or self._span == 0.0:  # warmed_up(), inlined (hot path)
            return 0.0, None
        if self._blocks.filled + 1 < self.block:  # the point does not complete a block
            return self._held, None
        window = self._blocks.pending_values(value)
        if window is None:
            return self._held, None
        presented = self._present(window)
        return 1.0 - float(_largest(presented[2])) / self.dimension, presented

    def reads_value_and_time_only(self) -> bool:
        return self.feature == VALUE_KEY

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)
        if value is None or value - value != 0.0:
            return 0.0
        return self.score_value(float(value), 0.0)

    def score_value(self, value: float, ts_s: float) -> float:
        if self._blocks.filled + 1 < self.block:  # mid-block (3 points in 4): hold, no call
            raw = self._held if self._categories and self._span != 0.0 else 0.0
            self._pending = (value, raw, None)
            return raw
        raw, presented = self._evaluate(value)
        self._pending = (value, raw, presented)
        return raw

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)
        if value is None or value - value != 0.0:
            return
        self.learn_value(float(value), 0.0)

    def learn_value(self, value: float, ts_s: float) -> None:
        pending = self._pending
        if pending is not None and pending[0] == value:
            raw, presented = pending[1], pending[2]
        else:
            raw, presented = self._evaluate(value)
        self._pending = None
        self._seen += 1
        if not self._blocks.add(value):
            return
        if self._span == 0.0:
            self._collect_warmup()
        if self._span > 0.0 and self._blocks.full():
            self._held = raw
            if presented is None or self._categories == 0:
                presented = self._present(self._blocks.window_values())
            self._resonate(*presented)

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """``score_value`` then ``learn_value`` per point; a point that does not complete a
        block (3 in 4) is done inline: it scores the held score and joins the block's sum."""
        blocks, block = self._blocks, self.block
        if len(values):
            self._pending = None  # what learning the first point would leave
        held = self._held if self._categories and self._span != 0.0 else 0.0
        scores = []
        for value in values:
            if blocks.filled + 1 < block:  # score_value's mid-block case, BlockWindows.add's
                scores.append(held)
                blocks._sum += value
                blocks.filled += 1
                self._seen += 1
            else:
                scores.append(self.score_value(value, 0.0))
                self.learn_value(value, 0.0)
                held = self._held if self._categories and self._span != 0.0 else 0.0
        return scores

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Re-warm from history in bounded time: the scaling from the first ``warmup`` values
        (as online), the categories from the last ``REPLAY_POINTS`` values only (online learning
        would also have seen the ones between; categories learned from them and not used since
        are the ones ``capacity`` would evict first)."""
        if self.feature != VALUE_KEY or values.size <= REPLAY_POINTS:
            super().learn_many(values, timestamps_s)
            return
        head = max(0, min(self.warmup - self._seen, values.size - REPLAY_POINTS))
        super().learn_many(values[:head], timestamps_s[:head])
        skipped = values.size - REPLAY_POINTS - head
        if skipped > 0:
            self._seen += skipped
            self._blocks = BlockWindows(self.block, self.dimension)
        tail = values.size - REPLAY_POINTS
        super().learn_many(values[tail:], timestamps_s[tail:])

    def _collect_warmup(self) -> None:
        self._warmup_means.append(self._blocks.window_values()[-1])
        if self._seen < self.warmup:
            return
        low, high = min(self._warmup_means), max(self._warmup_means)
        spread = high - low if high > low else max(abs(high), 1.0)
        self._low = low - self.margin * spread
        self._span = spread * (1.0 + 2.0 * self.margin)
        self._warmup_means = []

    def _resonate(
        self,
        code: npt.NDArray[np.float64],
        overlap: npt.NDArray[np.float64],
        sizes: npt.NDArray[np.float64],
    ) -> None:
        count = self._categories
        clock = float(self._blocks.completed)
        if count:
            norms = self._norms
            choice = sizes / (CHOICE_ALPHA + (norms if len(norms) == count else norms[:count]))
            choice[sizes < self.vigilance * self.dimension] = -1.0
            winner = int(choice.argmax())
            if choice[winner] >= 0.0:
                row = self._weights[winner]
                row += self.rate * (overlap[winner] - row)  # computed in float64, stored float32
                self._norms[winner] = _add(row, 0, np.float64)
                self._last_used[winner] = clock
                return
        slot = count if count < self.capacity else int(self._last_used.argmin())
        weights = self._weights
        if slot == len(weights):  # a new row (rare: at most ``capacity`` times)
            weights = self._weights = np.concatenate(
                (weights, code[np.newaxis].astype(weights.dtype))
            )
            self._norms = np.append(self._norms, _add(weights[slot], 0, np.float64))
            self._last_used = np.append(self._last_used, clock)
        else:
            weights[slot] = code
            self._norms[slot] = _add(weights[slot], 0, np.float64)
            self._last_used[slot] = clock
        self._categories = min(count + 1, self.capacity)
