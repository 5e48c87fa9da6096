"""Calibration: map any detector's raw score online to one z-like scale (the Merlion idea).

:class:`LikelihoodCalibrator` is Numenta's "anomaly likelihood" post-processing: the mean of the
last ``short_window`` raw scores is compared with the distribution (mean, standard deviation) of
such short means over the last ``long_window`` points; the calibrated score is how many standard
deviations above normal the recent raw scores sit (0 when below, or during warm-up). A score of
4 then means roughly the same tail probability whichever detector and series it comes from, so
one alert threshold serves all of them.

With ``clip`` set, a short mean enters the history at most ``clip`` standard deviations above
the history's mean (winsorised): a short burst of huge raw scores would otherwise inflate the
reference spread for the next ``long_window`` points and divide every later score, silencing
the series after one burst (issue 15). A lasting change still moves the history, ``clip``
spreads at a time.

:class:`Calibrated` wraps a raw detector with its own calibrator, so it obeys the detector
contract and outputs calibrated scores (the calibrator learns only when the detector does, and
only once the detector is warmed up, so warm-up zeros do not shrink the reference spread).

>>> calibrator = LikelihoodCalibrator(short_window=1, long_window=100, min_history=10)
>>> for step in range(100):
...     calibrator.learn(0.1 + 0.01 * (step % 5))
>>> calibrator.score(0.11) == 0.0, calibrator.score(1.0) > 20
(True, True)
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from math import sqrt
from typing import Literal

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import Detector, finite_or_zero

# float32 short means (issue 20); snapshots from before hold "d"
HISTORY_TYPECODE: Literal["f", "d"] = "f"
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32: larger short means are clamped


class LikelihoodCalibrator:
    """Raw score -> z-like score against the recent distribution of short-window mean scores.

    Both windows are ring buffers with running sums (re-summed exactly every ``8 long_window``
    updates); the history's mean and spread are refreshed on ``learn``, so ``score`` is a few
    arithmetic operations. The history of short means is ``array("f")``: 4 bytes a value (a
    list of Python floats took 32, ``array("d")`` 8), so a week's four full histories take
    32 KB of a series instead of 64 (issue 20: bytes per series). A short mean is rounded to
    float32 as it enters the history (clamped to float32's range first, so a huge raw score
    cannot store an infinity) and the running sums add the rounded value, so they always hold
    the sums of what the ring holds; the scores move in the 7th significant digit of the
    history's mean and spread (``pipelines/compare_detector_scores.py``, model card). The
    recent raw scores stay float64 (``short_window - 1`` values). Once the history is full it
    is copied to its exact size (``append`` leaves about 6 % spare room).

    Snapshots of the former layout (``array("d")`` histories) load and are converted on
    unpickling (:meth:`__setstate__`): the values rounded to float32 and the sums re-summed.
    """

    def __init__(
        self,
        short_window: int = 10,
        long_window: int = 2000,
        min_history: int = 50,
        min_std: float = 1e-3,
        clip: float | None = None,
    ) -> None:
        for name, value in (("short_window", short_window), ("long_window", long_window)):
            if value < 1:
                raise ValueError(f"{name}: expected >= 1, got {value}")
        self.short_window = short_window
        self.long_window = long_window
        self.min_history = min_history
        self.min_std = min_std
        self.clip = clip
        self._recent = array("d")
        self._recent_index = 0
        self._recent_sum = 0.0
        self._history: array[float] = array(HISTORY_TYPECODE)
        self._history_index = 0
        self._history_sum = 0.0
        self._history_squares = 0.0
        self._updates = 0
        self._mean = 0.0
        self._spread = min_std

    def __setstate__(self, state: dict[str, object]) -> None:
        """Unpickle; a snapshot's float64 history (before issue 20's float32 one) is rounded to
        float32 and its running sums re-summed from the rounded values, as a re-sum would."""
        self.__dict__.update(state)
        history = self._history
        if history.typecode != HISTORY_TYPECODE:
            rounded = [
                FLOAT32_MAX
                if value > FLOAT32_MAX
                else -FLOAT32_MAX
                if value < -FLOAT32_MAX
                else value
                for value in history
            ]
            self._history = array(HISTORY_TYPECODE, rounded)
            if self._history:
                self._history_sum = math.fsum(self._history)
                self._history_squares = math.fsum(value * value for value in self._history)
                size = len(self._history)
                mean = self._history_sum / size
                variance = self._history_squares / size - mean * mean
                spread = sqrt(variance) if variance > 0.0 else 0.0
                self._mean = mean
                self._spread = spread if spread > self.min_std else self.min_std
            self._updates = 0

    def _short_mean(self, raw: float) -> float:
        count = len(self._recent)
        return (self._recent_sum + raw) / (count + 1) if count else raw

    def ready(self) -> bool:
        """Whether enough history was seen to calibrate."""
        return len(self._history) >= self.min_history

    def score(self, raw: float) -> float:
        """Calibrated score of ``raw`` given the history (does not learn it)."""
        if len(self._history) < self.min_history:
            return 0.0
        count = len(self._recent)
        short = (self._recent_sum + raw) / (count + 1) if count else raw
        return finite_or_zero((short - self._mean) / self._spread)

    def learn(self, raw: float) -> None:
        """Add ``raw`` to the history.

        Called for every point of every calibrated component (five per point in the default),
        so the state is read into locals and written back once; the arithmetic is the same
        operations in the same order as the plain version (``sum -= old`` then ``sum +=
        short``), so the scores are bit-identical.
        """
        recent = self._recent
        count = len(recent)
        recent_sum = self._recent_sum
        short = (recent_sum + raw) / (count + 1) if count else raw
        history = self._history
        size = len(history)
        if self.clip is not None and size >= self.min_history:  # one burst must not silence
            short = min(short, self._mean + self.clip * self._spread)
        if short > FLOAT32_MAX:  # float32's range (an infinity would poison the sums)
            short = FLOAT32_MAX
        elif short < -FLOAT32_MAX:
            short = -FLOAT32_MAX
        if size < self.long_window:
            history.append(short)
            short = history[size]  # as stored (float32): the sums add what the ring holds
            size += 1
            if size == self.long_window:  # full for good: drop append's spare room
                self._history = array(HISTORY_TYPECODE, history)
            total = self._history_sum + short
            squares = self._history_squares + short * short
        else:
            index = self._history_index
            old = history[index]
            history[index] = short
            short = history[index]  # as stored, as above
            index += 1
            self._history_index = index if index < size else 0
            total = self._history_sum - old + short
            squares = self._history_squares - old * old + short * short
        updates = self._updates + 1
        if updates >= 8 * self.long_window:
            updates = 0
            total = math.fsum(history)
            squares = math.fsum(v * v for v in history)
        self._updates = updates
        self._history_sum = total
        self._history_squares = squares
        mean = total / size
        variance = squares / size - mean * mean
        spread = sqrt(variance) if variance > 0.0 else 0.0
        self._mean = mean
        min_std = self.min_std
        self._spread = spread if spread > min_std else min_std
        slots = self.short_window - 1  # _remember_recent, inlined (once per learned point)
        if slots > 0:
            if count < slots:
                recent.append(raw)
            else:
                index = self._recent_index
                recent_sum -= recent[index]
                recent[index] = raw
                index += 1
                self._recent_index = index if index < slots else 0
            self._recent_sum = recent_sum + raw

    def score_learn_many(self, raws: Sequence[float]) -> list[float]:
        """``score`` (as :meth:`Calibrated.score_one` computes it) then ``learn`` of each raw
        score in order, the state kept in locals: the same operations in the same order as
        those calls, so the same scores and state."""
        recent, history = self._recent, self._history
        recent_index, recent_sum = self._recent_index, self._recent_sum
        history_index, total, squares = (
            self._history_index,
            self._history_sum,
            self._history_squares,
        )
        updates, mean, spread = self._updates, self._mean, self._spread
        min_history, long_window, min_std, clip = (
            self.min_history,
            self.long_window,
            self.min_std,
            self.clip,
        )
        slots, resum_after, inf, sqrt = self.short_window - 1, 8 * long_window, math.inf, math.sqrt
        scores = []
        for raw in raws:
            count, size = len(recent), len(history)
            if size < min_history:
                scores.append(0.0)
            else:
                score = ((recent_sum + raw) / (count + 1) - mean) / spread
                scores.append(score if 0.0 < score < inf else 0.0)
            short = (recent_sum + raw) / (count + 1) if count else raw
            if clip is not None and size >= min_history:
                short = min(short, mean + clip * spread)
            if short > FLOAT32_MAX:  # as in learn
                short = FLOAT32_MAX
            elif short < -FLOAT32_MAX:
                short = -FLOAT32_MAX
            if size < long_window:
                history.append(short)
                short = history[size]
                size += 1
                if size == long_window:  # as in learn
                    history = self._history = array(HISTORY_TYPECODE, history)
                total = total + short
                squares = squares + short * short
            else:
                old = history[history_index]
                history[history_index] = short
                short = history[history_index]
                history_index = history_index + 1 if history_index + 1 < size else 0
                total = total - old + short
                squares = squares - old * old + short * short
            updates += 1
            if updates >= resum_after:
                updates = 0
                total = math.fsum(history)
                squares = math.fsum(v * v for v in history)
            mean = total / size
            variance = squares / size - mean * mean
            spread = sqrt(variance) if variance > 0.0 else 0.0
            spread = spread if spread > min_std else min_std
            if slots > 0:
                if count < slots:
                    recent.append(raw)
                else:
                    recent_sum -= recent[recent_index]
                    recent[recent_index] = raw
                    recent_index = recent_index + 1 if recent_index + 1 < slots else 0
                recent_sum = recent_sum + raw
        self._recent_index, self._recent_sum = recent_index, recent_sum
        self._history_index, self._history_sum, self._history_squares = (
            history_index,
            total,
            squares,
        )
        self._updates, self._mean, self._spread = updates, mean, spread
        return scores


class Calibrated(Detector):
    """A raw detector followed by its own :class:`LikelihoodCalibrator`.

    >>> from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
    >>> detector = Calibrated(RollingMedianScore(window=20), long_window=50, min_history=20)
    >>> for step in range(80):
    ...     detector.learn_one({"value": float(step % 3)})
    >>> detector.score_one({"value": 1.0}) < detector.score_one({"value": 40.0})
    True
    """

    output_is_calibrated = True

    def __init__(
        self,
        detector: Detector,
        short_window: int = 10,
        long_window: int = 2000,
        min_history: int = 50,
        min_std: float = 1e-3,
        clip: float | None = None,
    ) -> None:
        self.detector = detector
        self.short_window = short_window
        self.long_window = long_window
        self.min_history = min_history
        self.min_std = min_std
        self.clip = clip
        self._calibrator = LikelihoodCalibrator(
            short_window, long_window, min_history, min_std, clip
        )
        # the point score_one (its dict) or score_value (its value and time) saw, and its raw
        # score, so that learning the same point does not score it twice
        self._pending: tuple[Mapping[str, float] | tuple[float, float], float] | None = None
        self._detector_warm = False  # detectors stay warmed up once they are

    def clone(self) -> Calibrated:
        return Calibrated(
            self.detector.clone(),
            self.short_window,
            self.long_window,
            self.min_history,
            self.min_std,
            self.clip,
        )

    def score_one(self, x: Mapping[str, float]) -> float:
        raw = self.detector.score_one(x)
        self._pending = (x, raw)
        calibrator = self._calibrator  # LikelihoodCalibrator.score, inlined (hot path)
        if len(calibrator._history) < calibrator.min_history:
            return 0.0
        short = (calibrator._recent_sum + raw) / (len(calibrator._recent) + 1)
        score = (short - calibrator._mean) / calibrator._spread
        return score if 0.0 < score < math.inf else 0.0  # finite_or_zero, inlined

    def score_value(self, value: float, ts_s: float) -> float:
        raw = self.detector.score_value(value, ts_s)
        self._pending = ((value, ts_s), raw)
        calibrator = self._calibrator  # as in score_one
        if len(calibrator._history) < calibrator.min_history:
            return 0.0
        short = (calibrator._recent_sum + raw) / (len(calibrator._recent) + 1)
        score = (short - calibrator._mean) / calibrator._spread
        return score if 0.0 < score < math.inf else 0.0

    def reads_value_and_time_only(self) -> bool:
        return self.detector.reads_value_and_time_only()

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """Point by point until the detector is warmed up; then the detector's raw scores of
        the rest in one batch and the calibrator's in another (the calibrator learns every
        raw score once the detector is warm, so the two batches run one after the other)."""
        scores: list[float] = []
        start, size = 0, len(values)
        while not self._detector_warm and start < size:
            scores.append(self.score_value(values[start], timestamps_s[start]))
            self.learn_value(values[start], timestamps_s[start])
            start += 1
        if start < size:
            raws = self.detector.score_learn_many(values[start:], timestamps_s[start:])
            scores.extend(self._calibrator.score_learn_many(raws))
            self._pending = None  # as learning a point leaves it
        return scores

    def learn_one(self, x: Mapping[str, float]) -> None:
        pending = self._pending
        detector = self.detector
        raw = pending[1] if pending is not None and pending[0] is x else detector.score_one(x)
        self._pending = None  # never keep a reference to the caller's dict
        self._learn_raw(raw)
        detector.learn_one(x)

    def learn_value(self, value: float, ts_s: float) -> None:
        pending = self._pending
        detector = self.detector
        if pending is not None and pending[0] == (value, ts_s):
            raw = pending[1]
        else:
            raw = detector.score_value(value, ts_s)
        self._pending = None
        self._learn_raw(raw)
        detector.learn_value(value, ts_s)

    def _learn_raw(self, raw: float) -> None:
        """The calibrator learns the raw score of a point the detector is about to learn,
        once the detector is warmed up (it stays so)."""
        if self._detector_warm:
            self._calibrator.learn(raw)
        elif self.detector.warmed_up():
            self._detector_warm = True
            self._calibrator.learn(raw)

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """The detector learns the batch in bulk except the last points the calibrator can
        still remember (``long_window + short_window``), which go through ``learn_one``."""
        tail = self.long_window + self.short_window
        split = max(0, values.size - tail)
        if split:
            self.detector.learn_many(values[:split], timestamps_s[:split])
        Detector.learn_many(self, values[split:], timestamps_s[split:])

    def expected_range(self) -> tuple[float, float] | None:
        return self.detector.expected_range()

    def component(self) -> str:
        return self.detector.component()

    def warmed_up(self) -> bool:
        return self.detector.warmed_up() and self._calibrator.ready()
