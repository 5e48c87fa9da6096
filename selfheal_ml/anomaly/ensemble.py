"""Ensemble: several calibrated detectors side by side, the most alarmed one speaks.

Each component scores on the calibrated scale, so their scores compare directly; the ensemble
returns the largest and remembers which component produced it (the explanation's "component
that fired"). Every component learns every point the ensemble learns.

The hot path (issue 15: every point of every series goes through it) reads the point's value
and time once and passes the two numbers to every component (``score_value`` /
``learn_value``, when each component reads nothing else), and fuses the
:class:`~.calibration.Calibrated` wrappers into its loop: for a wrapped component the ensemble
calls the raw detector and does the calibrator's few operations itself, and learning a point
reuses the raw scores its scoring computed. The operations and their order are those of the
wrappers, so the scores are the same to the bit. Anything else (a component that reads other
features, a point without a finite value or time) goes through each component's own
``score_one`` / ``learn_one``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.calibration import Calibrated, LikelihoodCalibrator

ScoreStep = tuple[Callable[[float, float], float], LikelihoodCalibrator | None]
LearnStep = tuple[
    Callable[[float, float], None],
    Callable[[], bool],
    Calibrated | None,
    Callable[[float], None],
]
_DERIVED = (
    "_names",
    "_score_steps",
    "_learn_steps",
    "_value_only",
    "_raws",
    "_scored_value",
    "_scored_at",
    "_range",
    "_settled",
)


def _nothing(raw: float) -> None:
    """The calibrator step of a component without a calibrator (never called)."""


def finite_value_and_time(x: Mapping[str, float]) -> tuple[float, float] | None:
    """The point's value and time when both are finite numbers (else ``None``: the dict path
    handles what is missing or not finite).

    >>> point = {"value": 1.0, "timestamp_s": 60.0}
    >>> finite_value_and_time(point), finite_value_and_time({"value": 1.0})
    ((1.0, 60.0), None)
    """
    value, ts_s = x.get(VALUE_KEY), x.get(TIME_KEY)
    if value is None or ts_s is None or value - value != 0.0 or ts_s - ts_s != 0.0:
        return None
    return float(value), float(ts_s)


class MaxEnsemble(Detector):
    """The maximum of calibrated component scores.

    >>> from selfheal_ml.anomaly.extreme_value import NewExtreme
    >>> ensemble = MaxEnsemble({"extreme": NewExtreme(warmup=3), "wide": NewExtreme(warmup=3,
    ...     tolerance=1.0)})
    >>> for value in [1.0, 2.0, 3.0]:
    ...     ensemble.learn_one({"value": value})
    >>> ensemble.score_one({"value": 4.0}), ensemble.component()
    (8.5, 'extreme')
    """

    output_is_calibrated = True

    def __init__(self, components: Mapping[str, Detector], range_from: str | None = None) -> None:
        if not components:
            raise ValueError("components: expected at least one detector, got none")
        for name, detector in components.items():
            if not detector.output_is_calibrated:
                raise ValueError(
                    f"components[{name!r}]: expected a calibrated detector, got {detector!r}"
                )
        self.components = dict(components)
        self.range_from = range_from
        self._last_component = next(iter(self.components))
        self._plan()

    def _plan(self) -> None:
        """The fused loop's steps, and an empty record of the last point scored by it."""
        self._names = list(self.components)
        self._value_only = all(d.reads_value_and_time_only() for d in self.components.values())
        self._score_steps: list[ScoreStep] = []
        self._learn_steps: list[LearnStep] = []
        for detector in self.components.values():
            if type(detector) is Calibrated:  # its raw detector, its calibrator
                inner = detector.detector
                self._score_steps.append((inner.score_value, detector._calibrator))
                self._learn_steps.append(
                    (inner.learn_value, inner.warmed_up, detector, detector._calibrator.learn)
                )
            else:
                self._score_steps.append((detector.score_value, None))
                self._learn_steps.append((detector.learn_value, detector.warmed_up, None, _nothing))
        self._range = self._range_method()
        self._settled = False  # every calibrator has its min_history (it stays so): see score_value
        self._raws = [0.0] * len(self._names)  # raw score by component of the point scored
        self._scored_value = self._scored_at = math.nan  # that point (nan: none)

    def _range_method(self) -> Callable[[], tuple[float, float] | None]:
        """What :meth:`expected_range` asks (a wrapped component's own detector: the wrapper
        only passes the question on, and the pipeline asks on every point)."""
        if self.range_from is None:
            return self._first_range
        source = self.components[self.range_from]
        return (
            source.detector.expected_range if type(source) is Calibrated else source.expected_range
        )

    def _first_range(self) -> tuple[float, float] | None:
        for detector in self.components.values():
            bounds = detector.expected_range()
            if bounds is not None:
                return bounds
        return None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the fused loop's steps (bound methods): they are rebuilt on load."""
        state = self.__dict__.copy()
        for derived in _DERIVED:
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._plan()

    def clone(self) -> MaxEnsemble:
        return MaxEnsemble(
            {name: detector.clone() for name, detector in self.components.items()},
            self.range_from,
        )

    def reads_value_and_time_only(self) -> bool:
        return self._value_only

    def score_one(self, x: Mapping[str, float]) -> float:
        if self._value_only:
            pair = finite_value_and_time(x)
            if pair is not None:
                return self.score_value(*pair)
        self._scored_at = math.nan
        best_score = 0.0
        best_name = None
        for name, detector in self.components.items():
            score = detector.score_one(x)
            if score > best_score:
                best_score = score
                best_name = name
        if best_name is not None:
            self._last_component = best_name
        return best_score

    def learn_one(self, x: Mapping[str, float]) -> None:
        if self._value_only:
            pair = finite_value_and_time(x)
            if pair is not None:
                self.learn_value(*pair)
                return
        self._scored_at = math.nan
        for detector in self.components.values():
            detector.learn_one(x)

    def score_value(self, value: float, ts_s: float) -> float:
        if not self._value_only:
            return self.score_one({VALUE_KEY: value, TIME_KEY: ts_s})
        best_score = 0.0
        best_index = -1
        raws = self._raws
        inf = math.inf
        settled = self._settled
        for index, (score, calibrator) in enumerate(self._score_steps):
            raw = raws[index] = score(value, ts_s)
            if calibrator is None:
                if raw > best_score:
                    best_score = raw
                    best_index = index
            elif settled or len(calibrator._history) >= calibrator.min_history:
                # Calibrated.score_one on the raw score (0 when not finite and positive)
                calibrated = (
                    (calibrator._recent_sum + raw) / (len(calibrator._recent) + 1)
                    - calibrator._mean
                ) / calibrator._spread
                if best_score < calibrated < inf:
                    best_score = calibrated
                    best_index = index
        self._scored_value = value
        self._scored_at = ts_s
        if best_index >= 0:
            self._last_component = self._names[best_index]
        if not settled:  # a calibrator's history never shrinks: once ready, always ready
            self._settled = all(
                len(calibrator._history) >= calibrator.min_history
                for _, calibrator in self._score_steps
                if calibrator is not None
            )
        return best_score

    def learn_value(self, value: float, ts_s: float) -> None:
        if not self._value_only:
            self.learn_one({VALUE_KEY: value, TIME_KEY: ts_s})
            return
        raws = self._raws
        if value != self._scored_value or ts_s != self._scored_at:  # not the point just scored
            for index, (score, _) in enumerate(self._score_steps):
                raws[index] = score(value, ts_s)
        self._scored_at = math.nan
        for index, (learn, warmed_up, calibrated, calibrate) in enumerate(self._learn_steps):
            if calibrated is not None:  # Calibrated.learn_one with the raw score already known
                if calibrated._detector_warm:
                    calibrate(raws[index])
                elif warmed_up():
                    calibrated._detector_warm = True
                    calibrate(raws[index])
            learn(value, ts_s)

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """Component by component: each scores then learns every point of the batch in order
        (strictly online), then the maximum per point. The components do not see each other's
        scores, so the order of the work does not change any score."""
        if not self._value_only:
            return super().score_learn_many(values, timestamps_s)
        if not len(values):
            return []
        columns = np.array(
            [
                detector.score_learn_many(values, timestamps_s)
                for detector in self.components.values()
            ]
        )
        best = columns.max(axis=0)
        alarmed = np.flatnonzero(best > 0.0)
        if alarmed.size:  # the first component with the largest score, as score_one
            self._last_component = self._names[int(columns[:, alarmed[-1]].argmax())]
        self._scored_at = math.nan
        scores: list[float] = np.where(best > 0.0, best, 0.0).tolist()
        return scores

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        for detector in self.components.values():
            detector.learn_many(values, timestamps_s)

    def expected_range(self) -> tuple[float, float] | None:
        return self._range()

    def warmed_up(self) -> bool:
        return all(detector.warmed_up() for detector in self.components.values())

    def component(self) -> str:
        return self._last_component
