"""The default pipeline on series unlike NAB's files, and after a burst.

Every generator of :mod:`selfheal_ml.evaluation.synthetic_series` (gaps and irregular sampling,
low integer counts, flat stretches, a short series, heavy-tailed bursts) must get its labelled
anomaly alerted inside the label window by the default detector with the evaluation stages,
with few alerts elsewhere; and neither the calibration nor the escalation gate may leave a
series silent after one burst.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from selfheal_ml.anomaly import EscalationGate, ScoringConfig, SeriesScorer, default_detector
from selfheal_ml.anomaly.calibration import LikelihoodCalibrator
from selfheal_ml.evaluation.synthetic_series import GENERATORS, SyntheticSeries


def alerts(series: SyntheticSeries) -> list[int]:
    scorer = SeriesScorer(default_detector(), ScoringConfig())
    times, values = series.timestamps_s.tolist(), series.values.tolist()
    return [
        row
        for row, (ts_s, value) in enumerate(zip(times, values, strict=True))
        if scorer.process(ts_s, value).is_anomaly
    ]


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda g: g.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_labelled_anomaly_is_alerted_with_few_false_alarms(
    generator: Callable[[int], SyntheticSeries], seed: int
) -> None:
    series = generator(seed)
    fired = alerts(series)
    first, last = series.anomalies[0]
    assert any(first <= row <= last for row in fired), fired
    elsewhere = [row for row in fired if not first <= row <= last]
    assert len(elsewhere) <= 5, elsewhere


def test_the_gate_lets_a_later_anomaly_through_after_a_burst() -> None:
    gate = EscalationGate(window_points=400)
    assert gate.update(500.0) == 500.0  # the burst
    assert [gate.update(0.5) for _ in range(400)].count(0.0) == 400
    assert gate.update(9.0) == 9.0  # 400 points on, a modest anomaly passes


def test_a_clipped_calibrator_keeps_its_sensitivity_after_a_burst() -> None:
    clipped = LikelihoodCalibrator(short_window=10, long_window=2000, clip=8.0)
    plain = LikelihoodCalibrator(short_window=10, long_window=2000)
    for step in range(3000):
        raw = 1.0 + 0.1 * (step % 7) + (300.0 if 1500 <= step < 1505 else 0.0)
        clipped.learn(raw)
        plain.learn(raw)
    assert clipped.score(3.0) > 2.0 * plain.score(3.0)
