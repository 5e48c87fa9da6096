"""Compact per-series state gives the scores the list- and dict-based state gave (issue 20).

The reference is the legacy copy of each class (``legacy/``): the same points go through both,
online and through the batch warm-up, and every score, expected range and the snapshot of the
new state round trip must match exactly, not approximately. The calibrators' float32 rings and
the resonance's float32 rows (issue 20, a change of scores the lead allowed) are the exception:
the exact comparisons run them at float64 (``former_precision.float64_state``), so the
rounding is shown to be the only change, and one comparison runs the default layout within a
tolerance.
"""

from __future__ import annotations

import pickle
from array import array
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.calibration import LikelihoodCalibrator
from selfheal_ml.anomaly.registry import DEFAULT_SETTINGS, build_ensemble, default_detector
from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
from selfheal_ml.anomaly.scoring import ScoringConfig, SeriesScorer
from selfheal_ml.anomaly.seasonal_profile import SeasonalResidual
from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise
from selfheal_ml.anomaly.sparse_counts import SparseCounts
from tests.unit.anomaly.former_precision import float64_state

LEGACY_PATH = Path(__file__).parent / "legacy" / "legacy_ensemble.py"


def _legacy() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("legacy_ensemble", LEGACY_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LEGACY = _legacy()


values_strategy = st.lists(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([0.0, 1.0, 5.0, 5.5, 100.0]),
    ),
    min_size=1,
    max_size=400,
)


def _run(detector: Detector, points: list[float], step_s: float) -> list[tuple[float, Any]]:
    trace: list[tuple[float, Any]] = []
    for index, value in enumerate(points):
        x = {VALUE_KEY: value, TIME_KEY: 1.7e9 + step_s * index}
        trace.append((detector.score_one(x), detector.expected_range()))
        detector.learn_one(x)
    return trace


@settings(max_examples=60, deadline=None)
@given(values_strategy, st.integers(1, 12), st.integers(1, 60), st.integers(0, 20))
def test_calibrator_matches_the_list_based_one(
    raws: list[float], short: int, long: int, min_history: int
) -> None:
    old = LEGACY.load_legacy("calibration").LikelihoodCalibrator(short, long, min_history)
    with float64_state():
        new = LikelihoodCalibrator(short, long, min_history)
        for raw in raws:
            assert new.score(raw) == old.score(raw)
            new.learn(raw)
            old.learn(raw)


@settings(max_examples=40, deadline=None)
@given(values_strategy, st.integers(1, 4), st.integers(1, 3), st.integers(2, 40))
def test_sequence_surprise_matches_the_nested_table(
    values: list[float], levels: int, order: int, warmup: int
) -> None:
    new = SequenceSurprise(levels=levels, order=order, warmup=warmup)
    old = LEGACY.load_legacy("sequence_surprise").SequenceSurprise(levels, order, warmup)
    assert _run(new, values, 60.0) == _run(old, values, 60.0)


@settings(max_examples=40, deadline=None)
@given(values_strategy, st.integers(2, 48), st.sampled_from([30.0, 300.0, 1800.0]))
def test_seasonal_profile_matches_the_list_based_one(
    values: list[float], buckets: int, step_s: float
) -> None:
    new = SeasonalResidual(3600.0, buckets, smoothing=0.25, min_visits=1, clip=None)
    old = LEGACY.load_legacy("seasonal_profile").SeasonalResidual(
        3600.0, buckets, smoothing=0.25, min_visits=1
    )
    assert _run(new, values, step_s) == _run(old, values, step_s)


@settings(max_examples=40, deadline=None)
@given(values_strategy, st.integers(1, 50), st.integers(1, 20))
def test_rolling_median_matches_the_deque_based_one(
    values: list[float], window: int, warmup: int
) -> None:
    new = RollingMedianScore(window=window, warmup=warmup)
    old = LEGACY.load_legacy("robust_zscore").RollingMedianScore(window=window, warmup=warmup)
    assert _run(new, values, 60.0) == _run(old, values, 60.0)


def _series(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    times = 1.7e9 + np.arange(size) * 30.0
    daily = 10.0 * np.sin(times / 86_400.0 * 2 * np.pi)
    values = np.round(100.0 + daily + rng.normal(0.0, 2.0, size), 1)
    values[rng.integers(0, size, 5)] *= 4.0  # a few spikes in the history
    values[-300::60] *= 4.0  # and a few online, to flag
    return times, values


def _verdicts(detector: Detector, times: np.ndarray, values: np.ndarray, split: int) -> list[Any]:
    scorer = SeriesScorer(detector, ScoringConfig(cold_start_points=300, young_points=2000))
    scorer.replay(times[:split], values[:split])  # warm-up through the batch path
    return [
        scorer.process(ts, value) for ts, value in zip(times[split:], values[split:], strict=True)
    ]


def test_default_ensemble_verdicts_match_after_warm_up_and_online() -> None:
    times, values = _series(7, 3 * 2880 + 600)
    old = _verdicts(LEGACY.legacy_default_detector(), times, values, 3 * 2880)
    # the legacy ensemble's profiles learn every residual in full, calibrated from 1e-3
    former = replace(DEFAULT_SETTINGS, profile_clip=None, profile_min_std=1e-3)
    with float64_state():
        new = _verdicts(build_ensemble(former), times, values, 3 * 2880)
    assert new == old
    assert any(verdict.is_anomaly for verdict in new)


def test_the_float32_state_flags_the_same_points_with_scores_close_by() -> None:
    """The product's layout (float32 rings and rows) against the float64 one on the same
    points: the same flags and components, scores within a few parts in a million."""
    times, values = _series(7, 3 * 2880 + 600)
    compact = _verdicts(default_detector(), times, values, 3 * 2880)
    with float64_state():
        wide = _verdicts(default_detector(), times, values, 3 * 2880)
    assert [v.is_anomaly for v in compact] == [v.is_anomaly for v in wide]
    assert [v.component for v in compact] == [v.component for v in wide]
    for narrow, full in zip(compact, wide, strict=True):
        assert narrow.score == pytest.approx(full.score, rel=1e-4, abs=1e-4)


def test_a_pickled_scorer_scores_like_the_original() -> None:
    times, values = _series(3, 1500)
    scorer = SeriesScorer(default_detector())
    scorer.replay(times[:1000], values[:1000])
    copy = pickle.loads(pickle.dumps(scorer))
    for ts, value in zip(times[1000:].tolist(), values[1000:].tolist(), strict=True):
        assert copy.process(ts, value) == scorer.process(ts, value)


def test_a_snapshot_with_the_nested_table_is_converted() -> None:
    old = LEGACY.load_legacy("sequence_surprise").SequenceSurprise(levels=3, order=2, warmup=20)
    new = SequenceSurprise(levels=3, order=2, warmup=20)
    values = [float(index % 7) for index in range(200)]
    for detector in (old, new):
        _run(detector, values, 60.0)
    state = dict(vars(old))
    revived = SequenceSurprise.__new__(SequenceSurprise)
    revived.__setstate__(state)
    probes = [float(value) for value in range(-2, 10)]
    assert [revived.score_one({VALUE_KEY: v}) for v in probes] == [
        new.score_one({VALUE_KEY: v}) for v in probes
    ]


@given(st.lists(st.tuples(st.integers(-(2**70), 2**70), st.integers(1, 5)), max_size=80))
def test_sparse_counts_match_a_dict(additions: list[tuple[int, int]]) -> None:
    counts, reference = SparseCounts(), {}
    for key, count in additions:
        counts.add(key, count)
        reference[key] = reference.get(key, 0) + count
    assert len(counts) == len(reference)
    revived = pickle.loads(pickle.dumps(counts))
    for key in [*reference, 0, 1, -1, 2**64]:
        assert counts.get(key) == reference.get(key, 0) == revived.get(key)
        assert counts.contains(key) == (key in reference)
    probes = [*reference, 0, 1, -1, 2**64, -(2**70)]
    rotated = zip(probes, probes[1:] + probes[:1], probes[2:] + probes[:2], strict=True)
    for first, second, third in rotated:
        expected = tuple(reference.get(key, 0) for key in (first, second, third))
        assert counts.get_three(first, second, third) == expected


def test_sparse_counts_widen_past_32_bits_and_read_the_old_snapshot() -> None:
    """Issue 20: counts are 32-bit until one would pass 2**32 - 1, then 64-bit with every count
    kept; a snapshot from before (three items, 64-bit counts) loads with 32-bit counts."""
    counts = SparseCounts()
    counts.add(5, 2**32 - 2)
    counts.add(9, 1)
    assert counts._counts.itemsize == 4
    counts.add(5, 3)  # past 2**32 - 1
    counts.add(7, 2**40)  # a new key with a count beyond 32 bits
    assert counts._counts.itemsize == 8
    assert (counts.get(5), counts.get(7), counts.get(9)) == (2**32 + 1, 2**40, 1)
    revived = pickle.loads(pickle.dumps(counts))
    assert (revived.get(5), revived.get(7), revived.get(9)) == (2**32 + 1, 2**40, 1)
    former = SparseCounts.__new__(SparseCounts)
    former.__setstate__((array("q", [3, 8]).tobytes(), array("q", [4, 6]).tobytes(), {2**70: 1}))
    assert former._counts.itemsize == 4 and len(former) == 3
    assert (former.get(3), former.get(8), former.get(2**70), former.get(4)) == (4, 6, 1, 0)
    former.add(8, 1)
    assert former.get(8) == 7
