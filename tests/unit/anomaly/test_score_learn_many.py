"""The batch path of a series (``score_learn_many``) is the online loop, point for point.

Each detector's loop keeps its state in locals; the reference is ``score_value`` then
``learn_value`` on each point. The scores must be equal, and so must the state afterwards
(its pickle, byte for byte), so that online scoring can go on from either. Batches start
anywhere: before, during and after the warm-up, and after a point scored but not learned.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.anomaly.adaptive_resonance import AdaptiveResonance
from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.calibration import Calibrated, LikelihoodCalibrator
from selfheal_ml.anomaly.ensemble import MaxEnsemble
from selfheal_ml.anomaly.extreme_value import NewExtreme
from selfheal_ml.anomaly.registry import default_detector
from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
from selfheal_ml.anomaly.seasonal_profile import SeasonalResidual
from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise

DETECTORS: dict[str, Callable[[], Detector]] = {
    "extreme": lambda: NewExtreme(memory=40, warmup=5),
    "surprise": lambda: SequenceSurprise(levels=3, order=2, warmup=10),
    "median": lambda: RollingMedianScore(window=20, warmup=5),
    "resonance": lambda: AdaptiveResonance(block=3, dimension=3, warmup=12, capacity=6),
    "daily": lambda: SeasonalResidual(600.0, 6, smoothing=0.25, min_visits=1),
    "daily-per-point": lambda: SeasonalResidual(600.0, 6, decay="point", min_count=1),
    "calibrated": lambda: Calibrated(
        RollingMedianScore(window=20, warmup=5), long_window=15, min_history=4, clip=3.0
    ),
    "ensemble": lambda: MaxEnsemble(
        {
            "extreme": NewExtreme(memory=40, warmup=5),
            "surprise": Calibrated(SequenceSurprise(3, warmup=10), long_window=15, min_history=5),
            "resonance": Calibrated(
                AdaptiveResonance(block=2, dimension=3, warmup=12), long_window=15, min_history=5
            ),
            "daily": Calibrated(
                SeasonalResidual(600.0, 6, min_visits=1), long_window=15, min_history=5
            ),
        }
    ),
}

values = st.lists(
    st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from([0.0, 1.0, 5.0, 100.0])),
    min_size=0,
    max_size=250,
)


def online(detector: Detector, numbers: list[float], times: list[float]) -> list[float]:
    scores = []
    for value, ts_s in zip(numbers, times, strict=True):
        scores.append(detector.score_value(value, ts_s))
        detector.learn_value(value, ts_s)
    return scores


@pytest.mark.parametrize("name", sorted(DETECTORS))
@settings(max_examples=40, deadline=None)
@given(head=values, batch=values, irregular=st.booleans(), scored_only=st.booleans())
def test_the_batch_path_is_the_online_loop(
    name: str, head: list[float], batch: list[float], irregular: bool, scored_only: bool
) -> None:
    numbers = head + batch
    steps = [60.0 * (1 + (index % 3 if irregular else 0)) for index in range(len(numbers))]
    times = (1.7e9 + np.cumsum(steps)).tolist() if numbers else []
    split = len(head)
    by_point, by_batch = DETECTORS[name](), DETECTORS[name]()
    for detector in (by_point, by_batch):
        online(detector, numbers[:split], times[:split])
        if scored_only and split:  # the pipeline's protection: scored, never learned
            detector.score_value(numbers[split - 1] + 1.0, times[split - 1] + 1.0)
    expected = online(by_point, numbers[split:], times[split:])
    assert by_batch.score_learn_many(numbers[split:], times[split:]) == expected
    assert pickle.dumps(by_batch) == pickle.dumps(by_point)
    assert by_batch.component() == by_point.component()


@settings(max_examples=60, deadline=None)
@given(values, st.integers(1, 6), st.integers(1, 40), st.integers(0, 20))
def test_the_calibrator_batch_is_score_then_learn(
    raws: list[float], short: int, long: int, min_history: int
) -> None:
    by_point, by_batch = (LikelihoodCalibrator(short, long, min_history) for _ in range(2))
    expected = []
    for raw in raws:
        score = by_point.score(raw)
        expected.append(score if 0.0 < score < math.inf else 0.0)
        by_point.learn(raw)
    assert by_batch.score_learn_many(raws) == expected
    assert pickle.dumps(by_batch) == pickle.dumps(by_point)


def test_the_default_detector_batch_is_its_online_loop() -> None:
    rng = np.random.default_rng(5)
    count = 30_000  # three weeks at one point a minute: the weekly profile scores too
    times = 60.0 * np.arange(count)
    numbers = 80.0 + 15.0 * np.sin(2 * np.pi * times / 86_400.0) + rng.normal(0.0, 2.0, count)
    numbers[rng.choice(count, 40, replace=False)] += 30.0
    by_point, by_batch = default_detector(), default_detector()
    expected = online(by_point, numbers.tolist(), times.tolist())
    got: list[float] = []
    for start in range(0, count, 7_000):  # batches of uneven length, as rounds deliver them
        stop = start + 7_000
        got += by_batch.score_learn_many(numbers[start:stop].tolist(), times[start:stop].tolist())
    assert got == expected
    assert by_batch.component() == by_point.component()
    assert max(expected) > 8.0
    assert pickle.dumps(by_batch) == pickle.dumps(by_point)
