"""Contextual nearest neighbours: is the recent shape of the series unlike its past shapes?

The idea of KNN CAD (Burnaev & Ishimtsev, "Conformalized density- and distance-based anomaly
detection in time-series data", arXiv:1608.04585, 2016; the NAB entry "KNN CAD"): embed the
series as windows of its last few values, measure a window's *non-conformity* as the sum of its
distances to the ``neighbours`` nearest windows of a reference set drawn from the past, and
compare that with the non-conformities of recent windows (an inductive conformal predictor). The
paper's score is the conformal rank (the fraction of the ``calibration`` most recent
non-conformities below the current one); it saturates at 1, so a likelihood calibration cannot
tell a strange shape from a very strange one. The raw score here is the non-conformity in units
of the upper quartile of those recent non-conformities (the same order, unbounded): about 1 or
less for an ordinary shape, large for a shape far from every reference.

Online and cheap: windows are of block means (:mod:`.block_windows`, as ARTime downsamples), so
the distances are computed once per completed block; between completions the last block's score
is held. The reference set is a ring of the last ``reference`` windows, updated only with windows
whose raw score was below ``accept`` (a window the detector finds anomalous does not become a
reference shape: the paper's training set is anomaly-free by construction). Windows are divided by
a running scale (the mean absolute deviation of the block means) so non-conformities mean the
same on every series. Wrap it in :class:`~.calibration.Calibrated` (Numenta's likelihood) to
get z-like scores.

>>> detector = ContextualNeighbours(block=1, dimension=4, reference=60, calibration=40)
>>> for step in range(300):
...     detector.learn_one({"value": float(step % 6)})
>>> detector.score_one({"value": 0.0}), detector.score_one({"value": 17.0}) > 1.0
(0.0, True)
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import VALUE_KEY, Detector
from selfheal_ml.anomaly.block_windows import BlockWindows

MIN_REFERENCE = 1e-3  # non-conformity unit floor (in deviations): a perfectly periodic series


class ContextualNeighbours(Detector):
    """Conformal k-nearest-neighbour score of the window of the last ``dimension`` blocks."""

    def __init__(
        self,
        block: int = 4,
        dimension: int = 8,
        neighbours: int = 5,
        reference: int = 300,
        calibration: int = 300,
        accept: float = 3.0,
        feature: str = VALUE_KEY,
    ) -> None:
        self.block = block
        self.dimension = dimension
        self.neighbours = neighbours
        self.reference = reference
        self.calibration = calibration
        self.accept = accept
        self.feature = feature
        self._blocks = BlockWindows(block, dimension)
        self._reference = np.zeros((reference, dimension))
        self._stored = 0  # windows written to the reference ring
        self._arrival: deque[float] = deque()
        self._sorted: list[float] = []  # calibration non-conformities, sorted
        self._held = 0.0
        self._level = 0.0
        self._deviation = 0.0
        self._pending: tuple[float, float, float] | None = None  # (value, raw, alpha)

    def warmed_up(self) -> bool:
        return len(self._sorted) >= min(self.calibration, 30)

    def _nonconformity(self, window: npt.NDArray[np.float64]) -> float:
        count = self._stored if self._stored < self.reference else self.reference
        scale = self._deviation if self._deviation > 0.0 else 1.0
        distances = np.sqrt(((self._reference[:count] - window) ** 2).sum(axis=1))
        k = self.neighbours if self.neighbours < count else count
        return float(np.partition(distances, k - 1)[:k].sum()) / scale

    def _evaluate(self, value: float) -> tuple[float, float]:
        window = self._blocks.pending(value)
        if window is None or self._stored < 2 * self.neighbours:
            return self._held, -1.0
        alpha = self._nonconformity(window)
        if not self.warmed_up():
            return 0.0, alpha
        ordered = self._sorted
        reference = max(ordered[(3 * len(ordered)) // 4], MIN_REFERENCE)
        return float(alpha / reference), alpha

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)
        if value is None or value - value != 0.0:
            return 0.0
        raw, alpha = self._evaluate(float(value))
        self._pending = (float(value), raw, alpha)
        return raw

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)
        if value is None or value - value != 0.0:
            return
        value = float(value)
        pending = self._pending
        raw, alpha = (
            pending[1:] if pending is not None and pending[0] == value else self._evaluate(value)
        )
        self._pending = None
        if not self._blocks.add(value):
            return
        self._track_scale()
        if not self._blocks.full():
            return
        self._held = raw
        if alpha >= 0.0:
            self._remember(alpha)
        if raw < self.accept:
            self._store(self._blocks.window())

    def _track_scale(self) -> None:
        latest = self._blocks.window()[-1]
        rate = 1.0 / min(self._blocks.completed, 500)
        self._deviation += rate * (abs(latest - self._level) - self._deviation)
        self._level += rate * (latest - self._level)

    def _remember(self, alpha: float) -> None:
        self._arrival.append(alpha)
        bisect.insort(self._sorted, alpha)
        if len(self._arrival) > self.calibration:
            old = self._arrival.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def _store(self, window: npt.NDArray[np.float64]) -> None:
        self._reference[self._stored % self.reference] = window
        self._stored += 1
