"""One series' scoring pipeline: detector -> calibration -> escalation gate -> alert policy.

:class:`SeriesScorer` runs the stages for one point in the right order: score first; calibrate
(unless the detector already scores on the calibrated scale); while the detector is still warming
up and ``cold_start_points`` is set, take the larger of its score and the cold-start score
(:mod:`.cold_start`: gross, lasting departures from the short history seen so far); while the
series is young (``young_points``) ask its score for a margin above the threshold; gate; let the
alert policy decide; then learn, except from a point the policy flagged (river's
``protect_anomaly_detector`` idea: an anomaly must not become the new normal). Points during the
suppression that follows an alert are learned again, so a lasting change of regime becomes the new
normal instead of alerting forever. A gauge with a known bad direction can also carry a level
guard (:mod:`.level_guard`): its score joins after the gate (a repeated collapse is news every
time, not only when worse than the last one), the alert policy's suppression still applies.

A series of a metric where only a rise is trouble (``rises_only``: latency, errors, a job's
age since its last success) gives a point no higher than its expected range no score at the
gate and the policy: such a point says nothing is wrong, so it must neither fire (which would
start the policy's suppression) nor set the bar the gate asks the next points to clear.
Held-out seed 7023: a stuck job's first point, its age 0.002 s past a constant 30 s, scored
100 inside the range; the Predictive agent dropped it as good news, but its firing had begun
30 minutes of suppression, and the job's growing age was never reported.

>>> from selfheal_ml.anomaly.registry import default_detector
>>> scorer = SeriesScorer(default_detector())
>>> points = [scorer.process(60.0 * i, float(i % 7)) for i in range(600)]
>>> spike = scorer.process(60.0 * 600, 500.0)
>>> spike.is_anomaly, any(p.is_anomaly for p in points)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.alert_policy import DEFAULT_THRESHOLD, AlertPolicy
from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.calibration import Calibrated
from selfheal_ml.anomaly.cold_start import ColdStartScore
from selfheal_ml.anomaly.escalation_gate import EscalationGate
from selfheal_ml.anomaly.level_guard import LevelGuard


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
    cold_start_points: int = 0
    """Points (history included) during which the cold-start stage scores; 0 disables it.
    Match it to the detector's warm-up (300 for the default ensemble)."""
    cold_start_min_points: int = 24
    """Points a series needs before the cold-start stage scores it at all."""
    young_points: int = 0
    """Points (history included) during which an alert needs up to ``young_margin`` more than
    ``threshold``, the extra shrinking linearly to 0: a young series' range and calibration
    rest on little data, so its marginal scores are mostly noise. 0 disables it."""
    young_margin: float = 2.0


class PointScore(NamedTuple):
    """The verdict on one point, with what an explanation needs.

    A named tuple, not a frozen dataclass: one is built for every point of every series, and
    a frozen dataclass's ``__init__`` sets each of its six fields through
    ``object.__setattr__`` (issue 15: the per-point path).
    """

    score: float
    calibrated: float
    is_anomaly: bool
    expected_low: float | None
    expected_high: float | None
    component: str


class SeriesScorer:
    """Detector, calibration, gate and alert policy for one series; keeps their state."""

    def __init__(
        self,
        detector: Detector,
        config: ScoringConfig | None = None,
        guard: LevelGuard | None = None,
        rises_only: bool = False,
    ) -> None:
        self.config = config or ScoringConfig()
        self.guard = guard
        self.rises_only = rises_only
        self.detector = detector if detector.output_is_calibrated else Calibrated(detector)
        self.gate = EscalationGate(self.config.gate_points)
        self.policy = self._new_policy()
        self.cold: ColdStartScore | None = None
        if self.config.cold_start_points > 0:
            self.cold = ColdStartScore(
                min(self.config.cold_start_min_points, self.config.cold_start_points),
                self.config.cold_start_points,
            )
        self.last_ts_s: float | None = None
        self.seen = 0  # points scored or replayed while young (counting stops after that)

    def _new_policy(self) -> AlertPolicy:
        config = self.config
        return AlertPolicy(config.threshold, config.min_hits, config.window_s, config.suppress_s)

    def _demand(self, score: float, cold: bool = False) -> float:
        """``score`` as the gate and policy see it: a young series' score counts only when it
        clears the threshold by the margin its youth still asks for (then 0 for the rest).

        The cold-start stage's scores (``cold``) are exempt: they need three points in a row
        beyond the range seen plus a range floored at half the level, a bar of their own. With
        the margin too, a departure towards zero could not clear it (its score, ``base_score``
        plus at most twice the level over the floor, stays near 10): live, a cache whose hit
        ratio collapsed from 0.93 to 0.08 on a fresh ``serve`` scored 9.7, under 9.95."""
        seen = self.seen
        young = self.config.young_points
        if seen >= young:
            return score
        self.seen = seen + 1
        if cold:
            return score
        margin = self.config.young_margin * (1.0 - seen / young)
        return score if score >= self.config.threshold + margin else 0.0

    def _cold_start(
        self, value: float, calibrated: float, bounds: tuple[float, float] | None, component: str
    ) -> tuple[float, tuple[float, float] | None, str]:
        """Let the cold-start stage speak while it is active and more alarmed than the
        detector; once retired it costs one attribute check per point."""
        cold = self.cold
        if cold is None:
            return calibrated, bounds, component
        if cold.retired():
            self.cold = None  # the detector is warm for good: drop the stage's state
            return calibrated, bounds, component
        cold_range = cold.expected_range()
        cold_score = cold.update(value)
        if bounds is None:
            bounds = cold_range
        if cold_score > calibrated:
            return cold_score, cold_range, "cold-start"
        return calibrated, bounds, component

    def process(self, ts_s: float, value: float) -> PointScore:
        """Score one point (epoch seconds, value), decide, then learn it unless protected."""
        detector = self.detector
        bounds = detector.expected_range()
        if detector.reads_value_and_time_only():  # the two numbers, no dict (the hot path)
            calibrated = detector.score_value(value, ts_s)
            point = None
        else:
            point = {VALUE_KEY: value, TIME_KEY: ts_s}
            calibrated = detector.score_one(point)
        component = detector.component()
        if self.cold is not None:
            calibrated, bounds, component = self._cold_start(value, calibrated, bounds, component)
        young = self.seen < self.config.young_points
        cold = component == "cold-start"
        evidence = calibrated
        if self.rises_only and bounds is not None and value <= bounds[1]:
            evidence = 0.0  # no higher than expected: good news (see the module doc)
        score = self.gate.update(self._demand(evidence, cold) if young else evidence)
        if self.guard is not None:
            level_score = self.guard.update(ts_s, value, self.config.threshold)
            if level_score > score:
                score, component = level_score, "level"
                calibrated = max(calibrated, level_score)
                bounds = self.guard.bounds() or bounds
        fired = self.policy.update(ts_s, score)
        if not (fired and self.config.protect):  # _learn, inlined (every point, every series)
            if point is None:
                detector.learn_value(value, ts_s)
            else:
                detector.learn_one(point)
        self.last_ts_s = ts_s
        if bounds is None:
            return PointScore(score, calibrated, fired, None, None, component)
        return PointScore(score, calibrated, fired, bounds[0], bounds[1], component)

    def warm(self, ts_s: float, value: float) -> None:
        """Replay one historical point: the same stages as :meth:`process`, without a verdict."""
        detector = self.detector
        bounds = detector.expected_range() if self.rises_only else None
        if detector.reads_value_and_time_only():
            score = detector.score_value(value, ts_s)
            point = None
        else:
            point = {VALUE_KEY: value, TIME_KEY: ts_s}
            score = detector.score_one(point)
        if self.cold is not None:
            score, bounds, _ = self._cold_start(value, score, bounds, "")
        if self.rises_only and bounds is not None and value <= bounds[1]:
            score = 0.0  # good news (see the module doc)
        score = self.gate.update(self._demand(score))
        if self.guard is not None:
            score = max(score, self.guard.update(ts_s, value, self.config.threshold))
        fired = self.policy.update(ts_s, score)
        self._learn(value, ts_s, point, fired)
        self.last_ts_s = ts_s

    def replay(
        self, timestamps_s: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
    ) -> None:
        """Re-warm from stored history (finite values, increasing times, oldest first).

        All but the last ``exact_tail_points`` go to the detector's batch path, learned as
        normal points (no protection: the past is taken as it was); the tail goes through
        :meth:`warm`, so the gate and protection end in their online state. History warms,
        it never decides: afterwards the alert policy starts afresh, so an alert the history
        would have raised (and that nobody saw) neither fires nor suppresses the next real
        one. (It used to: a would-be alert in the history's last half hour muted the series,
        so at 5 s a service restarted after an hour of history did not report a database
        outage.) The gate keeps the history's recent scores: a marginal score is no news
        whether it came before or after the restart.
        """
        split = max(0, values.size - self.config.exact_tail_points)
        if split:
            self.detector.learn_many(values[:split], timestamps_s[:split])
            if self.guard is not None:
                threshold = self.config.threshold
                for ts_s, value in zip(
                    timestamps_s[:split].tolist(), values[:split].tolist(), strict=True
                ):
                    self.guard.update(ts_s, value, threshold)
            if self.cold is not None:
                self.cold.learn_many(values[:split])
            self.seen += split
        for ts_s, value in zip(timestamps_s[split:].tolist(), values[split:].tolist(), strict=True):
            self.warm(ts_s, value)
        if values.size:
            self.last_ts_s = float(timestamps_s[-1])
        self.policy = self._new_policy()

    def _learn(
        self, value: float, ts_s: float, point: dict[str, float] | None, flagged: bool
    ) -> None:
        """Learn the point (its dict when the detector was given one) unless protected."""
        if self.config.protect and flagged:
            return
        if point is None:
            self.detector.learn_value(value, ts_s)
        else:
            self.detector.learn_one(point)
