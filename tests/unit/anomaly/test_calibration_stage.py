"""Calibration maps raw scores of any scale onto one z-like scale."""

from __future__ import annotations

import math
import pickle
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
    assert sys.getsizeof(history) == sys.getsizeof(array(history.typecode, history))
    for raw in raws[400:]:
        assert trimmed.score(raw) == reference.score(raw)
        trimmed.learn(raw)
        reference.learn(raw)


def test_the_history_holds_float32_and_the_sums_hold_what_it_holds() -> None:
    """Issue 20: 4 bytes a short mean; the running sums add the value as stored, so after any
    number of updates they equal an exact re-sum of the ring (within float64 rounding)."""
    raws = np.random.default_rng(5).gamma(2.0, 1.0, 2500).tolist()
    calibrator = fed(LikelihoodCalibrator(long_window=1000), np.asarray(raws))
    history = calibrator._history
    assert history.itemsize == 4 and len(history) == 1000
    assert calibrator._history_sum == pytest.approx(math.fsum(history), rel=1e-12)
    squares = math.fsum(value * value for value in history)
    assert calibrator._history_squares == pytest.approx(squares, rel=1e-12)


def test_a_short_mean_beyond_float32_is_clamped_not_infinite() -> None:
    """A raw score past float32's range (a median score with a tiny spread) must not put an
    infinity in the ring: its sums would turn NaN when the infinity left it. (The running sums
    lose the small values' digits beside such a value until the next exact re-sum, as they did
    with float64 rings; that is not what this test is about.)"""
    calibrator = LikelihoodCalibrator(short_window=1, long_window=60, min_history=10)
    fed(calibrator, np.ones(30))
    calibrator.learn(1e300)
    assert max(calibrator._history) == pytest.approx(3.4028234663852886e38)
    fed(calibrator, np.ones(100))  # the huge value has left the ring
    assert all(math.isfinite(value) for value in calibrator._history)
    assert math.isfinite(calibrator._history_sum) and math.isfinite(calibrator._mean)
    assert math.isfinite(calibrator._history_squares) and math.isfinite(calibrator._spread)


def _float64_layout(calibrator: LikelihoodCalibrator, raws: list[float]) -> bytes:
    """A pickle of the layout before issue 20: the same learning with an ``array("d")`` ring
    that keeps every short mean at float64 (what the former code stored)."""
    calibrator._history = array("d")
    for raw in raws:  # the former learn: float64 values, sums of the float64 values
        count = len(calibrator._recent)
        short = (calibrator._recent_sum + raw) / (count + 1) if count else raw
        history = calibrator._history
        if len(history) < calibrator.long_window:
            history.append(short)
        else:
            history[calibrator._history_index] = short
            calibrator._history_index = (calibrator._history_index + 1) % len(history)
        calibrator._history_sum = math.fsum(history)
        calibrator._history_squares = math.fsum(value * value for value in history)
        size = len(history)
        calibrator._mean = calibrator._history_sum / size
        variance = calibrator._history_squares / size - calibrator._mean**2
        calibrator._spread = max(math.sqrt(max(variance, 0.0)), calibrator.min_std)
        slots = calibrator.short_window - 1
        if len(calibrator._recent) < slots:
            calibrator._recent.append(raw)
        else:
            calibrator._recent_sum -= calibrator._recent[calibrator._recent_index]
            calibrator._recent[calibrator._recent_index] = raw
            calibrator._recent_index = (calibrator._recent_index + 1) % slots
        calibrator._recent_sum += raw
    return pickle.dumps(calibrator)


def test_a_snapshot_of_the_float64_layout_loads_compact_and_scores_alike() -> None:
    """Snapshots written before issue 20 hold ``array("d")`` histories: they load, become
    float32 with re-summed sums, and score within float32 rounding of the float64 state."""
    raws = np.random.default_rng(6).gamma(2.0, 1.0, 700).tolist()
    float64_state = LikelihoodCalibrator(long_window=500)  # keeps the former state in memory
    old = pickle.loads(_float64_layout(float64_state, raws))
    assert float64_state._history.typecode == "d"
    assert old._history.typecode == "f" and len(old._history) == 500
    assert old._history_sum == pytest.approx(math.fsum(old._history), rel=1e-12)
    for probe in (0.5, 2.0, 6.0, 20.0):
        assert old.score(probe) == pytest.approx(float64_state.score(probe), rel=1e-5, abs=1e-6)
    for raw in raws[:300]:  # it learns on in the new layout
        old.learn(raw)
    assert old._history.typecode == "f" and len(old._history) == 500
    assert math.isfinite(old.score(3.0))
