"""What each detector is for: the anomaly it should catch, and the normal it should not flag."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.anomaly import (
    DETECTORS,
    NewExtreme,
    RollingMedianScore,
    SeasonalResidual,
    SequenceSurprise,
    make_detector,
)
from selfheal_ml.anomaly.base import Detector
from selfheal_ml.anomaly.batch import score_series


def learn(detector: Detector, values: list[float], period_s: float = 60.0) -> None:
    for index, value in enumerate(values):
        detector.learn_one({"value": value, "timestamp_s": period_s * index})


def test_new_extreme_flags_only_values_beyond_the_recent_range() -> None:
    detector = NewExtreme(memory=100, warmup=10)
    learn(detector, [float(v % 10) for v in range(100)])
    assert detector.score_one({"value": 9.0}) == 0.0
    assert detector.score_one({"value": 14.0}) == pytest.approx(8.0 + 5.0 / 9.0)
    assert detector.score_one({"value": -9.0}) == pytest.approx(9.0)


def test_new_extreme_forgets_beyond_its_memory() -> None:
    detector = NewExtreme(memory=50, warmup=10)
    learn(detector, [100.0] + [1.0, 2.0] * 60)
    assert detector.score_one({"value": 50.0}) > 8.0


def test_sequence_surprise_learns_a_repeating_pattern() -> None:
    detector = SequenceSurprise(levels=4, order=2, warmup=40)
    learn(detector, [0.0, 1.0, 2.0, 3.0] * 100)
    after_one_two = {"value": 3.0}  # the context is (2, 3) -> next is 0
    assert detector.score_one({"value": 0.0}) == 0.0
    assert detector.score_one(after_one_two) == 1.0


def test_rolling_median_is_robust_to_past_outliers() -> None:
    rng = np.random.default_rng(0)
    values = (10.0 + rng.normal(0.0, 1.0, 300)).tolist()
    values[::25] = [1000.0] * len(values[::25])
    detector = RollingMedianScore(window=240)
    learn(detector, values)
    assert detector.score_one({"value": 10.0}) < 1.0
    assert detector.score_one({"value": 20.0}) > 5.0


def test_seasonal_residual_knows_the_time_of_day() -> None:
    hours = np.arange(24 * 14)
    values = np.where((hours % 24 >= 9) & (hours % 24 < 17), 100.0, 10.0).tolist()
    detector = SeasonalResidual(period_s=86_400.0, buckets=24)
    learn(detector, values, period_s=3600.0)
    noon, midnight = 3600.0 * (24 * 14 + 12), 3600.0 * (24 * 14)
    assert detector.score_one({"value": 100.0, "timestamp_s": noon}) < 1.0
    assert detector.score_one({"value": 100.0, "timestamp_s": midnight}) > 10.0


def test_registry_builds_fresh_detectors_and_names_unknown_ones() -> None:
    assert make_detector("default") is not make_detector("default")
    assert set(DETECTORS) >= {"default", "river-hst", "median-iqr", "seasonal-residual"}
    with pytest.raises(KeyError, match="expected one of"):
        make_detector("nope")


def test_batch_scoring_is_online_and_has_one_score_per_point() -> None:
    rng = np.random.default_rng(1)
    values = 50.0 + rng.normal(0.0, 1.0, 1200)
    times = 60.0 * np.arange(values.size)
    spiked = values.copy()
    spiked[1000] = 90.0
    clean_scores = score_series("default", times, values)
    spiked_scores = score_series("default", times, spiked)
    assert clean_scores.shape == (1200,)
    np.testing.assert_array_equal(clean_scores[:1000], spiked_scores[:1000])  # no look-ahead
    assert spiked_scores[1000] > 5.0
