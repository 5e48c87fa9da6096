"""One series' scoring pipeline: detector -> calibration -> escalation gate -> alert policy.

:class:`SeriesScorer` runs the stages for one point in the right order: score first; calibrate
(unless the detector already scores on the calibrated scale); gate; let the alert policy decide;
then learn, except from a point the policy flagged (river's ``protect_anomaly_detector`` idea:
an anomaly must not become the new normal). Points during the suppression that follows an alert
are learned again, so a lasting change of regime becomes the new normal instead of alerting
forever.

>>> from selfheal_ml.anomaly.registry import default_detector
>>> scorer = SeriesScorer(default_detector())
>>> points = [scorer.process(60.0 * i, float(i % 7)) for i in range(600)]
>>> spike = scorer.process(60.0 * 600, 500.0)
>>> spike.is_anomaly, any(p.is_anomaly for p in points)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD, AlertPolicy
from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.calibration import Calibrated
from selfheal_ml.anomaly.escalation_gate import EscalationGate


@dataclass(frozen=True)
class ScoringConfig:
    """Parameters of the stages after the detector (see each stage's module)."""

    threshold: float = DEFAULT_THRESHOLD
    min_hits: int = 1
    window_s: float = 300.0
    suppress_s: float = 1800.0
    gate_points: int = 400
    protect: bool = True
    exact_tail_points: int = 300


@dataclass(frozen=True)
class PointScore:
    """The verdict on one point, with what an explanation needs."""

    score: float
    calibrated: float
    is_anomaly: bool
    expected_low: float | None
    expected_high: float | None
    component: str


class SeriesScorer:
    """Detector, calibration, gate and alert policy for one series; keeps their state."""

    def __init__(self, detector: Detector, config: ScoringConfig | None = None) -> None:
        self.config = config or ScoringConfig()
        self.detector = detector if detector.output_is_calibrated else Calibrated(detector)
        self.gate = EscalationGate(self.config.gate_points)
        self.policy = AlertPolicy(
            self.config.threshold,
            self.config.min_hits,
            self.config.window_s,
            self.config.suppress_s,
        )
        self.last_ts_s: float | None = None

    def process(self, ts_s: float, value: float) -> PointScore:
        """Score one point (epoch seconds, value), decide, then learn it unless protected."""
        point = {VALUE_KEY: value, TIME_KEY: ts_s}
        detector = self.detector
        bounds = detector.expected_range()
        calibrated = detector.score_one(point)
        component = detector.component()
        score = self.gate.update(calibrated)
        fired = self.policy.update(ts_s, score)
        self._learn(point, fired)
        self.last_ts_s = ts_s
        low, high = bounds if bounds is not None else (None, None)
        return PointScore(score, calibrated, fired, low, high, component)

    def warm(self, ts_s: float, value: float) -> None:
        """Replay one historical point: the same stages as :meth:`process`, without a verdict."""
        point = {VALUE_KEY: value, TIME_KEY: ts_s}
        fired = self.policy.update(ts_s, self.gate.update(self.detector.score_one(point)))
        self._learn(point, fired)
        self.last_ts_s = ts_s

    def replay(
        self, timestamps_s: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
    ) -> None:
        """Re-warm from stored history (finite values, increasing times, oldest first).

        All but the last ``exact_tail_points`` go to the detector's batch path, learned as
        normal points (no protection: the past is taken as it was); the tail goes through
        :meth:`warm`, so the gate, the policy and protection end in their online state.
        """
        split = max(0, values.size - self.config.exact_tail_points)
        if split:
            self.detector.learn_many(values[:split], timestamps_s[:split])
        for ts_s, value in zip(timestamps_s[split:].tolist(), values[split:].tolist(), strict=True):
            self.warm(ts_s, value)
        if values.size:
            self.last_ts_s = float(timestamps_s[-1])

    def _learn(self, point: dict[str, float], flagged: bool) -> None:
        if self.config.protect and flagged:
            return
        self.detector.learn_one(point)
