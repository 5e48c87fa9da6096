"""Calibration maps raw scores of any scale onto one z-like scale."""

from __future__ import annotations

import sys
from array import array

import numpy as np
import pytest

from selfheal_ml.anomaly import Calibrated, LikelihoodCalibrator, RollingMedianScore


def fed(calibrator: LikelihoodCalibrator, raws: np.ndarray) -> LikelihoodCalibrator:
    for raw in raws.tolist():
        calibrator.learn(raw)
    return calibrator


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calibrated_score_does_not_depend_on_the_raw_scale(seed: int) -> None:
    raws = np.random.default_rng(seed).gamma(2.0, 1.0, 1500)
    small = fed(LikelihoodCalibrator(short_window=1, long_window=1000), raws)
    large = fed(LikelihoodCalibrator(short_window=1, long_window=1000), raws * 1000.0)
    for probe in (0.5, 3.0, 12.0):
        assert small.score(probe) == pytest.approx(large.score(probe * 1000.0), rel=1e-6)


def test_scores_are_z_like_for_gaussian_raw_scores() -> None:
    raws = np.random.default_rng(3).normal(10.0, 2.0, 3000)
    calibrator = fed(LikelihoodCalibrator(short_window=1, long_window=3000), raws)
    assert calibrator.score(10.0 + 4 * 2.0) == pytest.approx(4.0, abs=0.2)
    assert calibrator.score(10.0) < 0.2


def test_zero_until_enough_history() -> None:
    calibrator = LikelihoodCalibrator(min_history=50)
    fed(calibrator, np.ones(49))
    assert not calibrator.ready()
    assert calibrator.score(100.0) == 0.0
    calibrator.learn(1.0)
    assert calibrator.ready()
    assert calibrator.score(100.0) > 0.0


def test_short_window_smooths_a_single_spike() -> None:
    raws = np.random.default_rng(4).normal(1.0, 0.1, 500)
    sharp = fed(LikelihoodCalibrator(short_window=1, long_window=500), raws)
    smooth = fed(LikelihoodCalibrator(short_window=10, long_window=500), raws)
    assert smooth.score(3.0) < sharp.score(3.0)


def test_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="short_window"):
        LikelihoodCalibrator(short_window=0)


def test_wrapped_detector_does_not_calibrate_on_warm_up_zeros() -> None:
    detector = Calibrated(RollingMedianScore(window=100, warmup=100), min_history=10)
    for step in range(100):
        detector.learn_one({"value": float(step % 4)})
    assert detector.detector.warmed_up()
    assert not detector.warmed_up()


@pytest.mark.parametrize("batch", [False, True])
def test_a_full_history_keeps_no_spare_room(batch: bool) -> None:
    """Issue 20: once full, the history is copied to its exact size (``append`` over-allocates
    about 6 %), by ``learn`` and by ``score_learn_many`` alike, and the scores go on the same."""
    raws = np.random.default_rng(4).gamma(2.0, 1.0, 900).tolist()
    trimmed = LikelihoodCalibrator(long_window=300)
    reference = LikelihoodCalibrator(long_window=300)
    if batch:
        trimmed.score_learn_many(raws[:400])
    else:
        for raw in raws[:400]:
            trimmed.learn(raw)
    for raw in raws[:400]:
        reference.learn(raw)
    history = trimmed._history
    assert len(history) == 300
    assert sys.getsizeof(history) == sys.getsizeof(array("d", history))
    for raw in raws[400:]:
        assert trimmed.score(raw) == reference.score(raw)
        trimmed.learn(raw)
        reference.learn(raw)
