"""The adaptive-resonance detector: learned categories resonate, novel shapes do not."""

from __future__ import annotations

import copy
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.anomaly import adaptive_resonance
from selfheal_ml.anomaly.adaptive_resonance import AdaptiveResonance


def square_wave(seed: int, n_points: int = 1500) -> list[float]:
    rng = np.random.default_rng(seed)
    levels = np.where((np.arange(n_points) // 40) % 2 == 0, 2.0, 8.0)
    return (levels + rng.normal(0.0, 0.05, n_points)).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_learned_pattern_resonates_and_a_new_one_does_not(seed: int) -> None:
    detector = AdaptiveResonance(block=4, dimension=6, warmup=200)
    scores = []
    for value in square_wave(seed):
        scores.append(detector.score_one({"value": value}))
        detector.learn_one({"value": value})
    ordinary = max(scores[-400:])
    novel = []
    for _ in range(40):  # a half-height plateau, never seen
        novel.append(detector.score_one({"value": 5.0}))
        detector.learn_one({"value": 5.0})
    assert max(novel) > max(0.1, 3.0 * ordinary)


def test_capacity_bounds_the_categories() -> None:
    detector = AdaptiveResonance(block=1, dimension=3, warmup=20, capacity=5, vigilance=0.99)
    rng = np.random.default_rng(0)
    for value in rng.uniform(0.0, 100.0, 2000).tolist():
        detector.learn_one({"value": value})
    assert detector._categories == 5


def test_silent_before_the_scaling_is_fixed() -> None:
    detector = AdaptiveResonance(block=2, dimension=4, warmup=100)
    for value in square_wave(5, 99):
        assert detector.score_one({"value": value}) == 0.0
        detector.learn_one({"value": value})
    assert not detector.warmed_up()


def test_replaying_a_long_history_keeps_the_learned_categories() -> None:
    history = np.array(square_wave(6, 12_000))
    times = 60.0 * np.arange(history.size, dtype=np.float64)
    replayed = AdaptiveResonance(block=4, dimension=6, warmup=200)
    replayed.learn_many(history, times)
    online = AdaptiveResonance(block=4, dimension=6, warmup=200)
    for value in history.tolist():
        online.learn_one({"value": value})
    assert replayed.warmed_up() and replayed._span == online._span
    for detector in (replayed, online):
        ordinary = [detector.score_one({"value": v}) for v in (2.0, 2.0, 2.0, 2.0)]
        assert max(ordinary) < 0.2


RESONANCE_BEFORE_SPEED_WORK = Path(__file__).parent / "legacy" / "legacy_adaptive_resonance.py"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_the_implementation_before_the_speed_work(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The faster hot path (held score without a call, clamping without min/max) gives the
    old scores exactly, on noisy cycles with level shifts, flat stretches and spikes (with
    float64 rows, as then: the float32 rows of issue 20 are the one change of scores, compared
    within a tolerance in ``test_compact_state.py``)."""
    monkeypatch.setattr(adaptive_resonance, "WEIGHT_DTYPE", np.float64)
    spec = importlib.util.spec_from_file_location("legacy_resonance", RESONANCE_BEFORE_SPEED_WORK)
    assert spec is not None and spec.loader is not None
    legacy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(legacy)
    rng = np.random.default_rng(seed)
    steps = np.arange(6000)
    values = 10.0 * np.sin(steps / 40.0) + rng.normal(0.0, 1.0, steps.size)
    values[2000:2600] += 25.0  # a level shift
    values[3500:3900] = 3.0  # a flat stretch
    values[rng.choice(steps.size, 30, replace=False)] *= 6.0  # spikes
    old, new = legacy.AdaptiveResonance(capacity=32), AdaptiveResonance(capacity=32)
    for value in values.tolist():
        point = {"value": value}
        assert new.score_one(point) == old.score_one(point)
        if value < 60.0:  # some points are never learned (as the protection skips them)
            old.learn_one(point)
            new.learn_one(point)


def test_rows_grow_with_the_categories_and_the_old_layout_scores_the_same() -> None:
    """Issue 20: one weight row per founded category, not ``capacity`` rows up front. A detector
    from a snapshot of the old layout (``capacity`` rows, zeros beyond the categories) goes on
    with the same scores as one in the new layout, through evictions at capacity."""
    rng = np.random.default_rng(3)
    values = (10.0 * np.sin(np.arange(5000) / 30.0) + rng.normal(0.0, 2.0, 5000)).tolist()
    grown = AdaptiveResonance(capacity=24)
    for value in values[:1500]:
        grown.learn_one({"value": value})
    assert 0 < grown._categories == len(grown._weights) == grown._norms.size
    padded = copy.deepcopy(grown)
    room = padded.capacity - padded._categories
    padded._weights = np.vstack(
        (padded._weights, np.zeros((room, 2 * padded.dimension), dtype=padded._weights.dtype))
    )
    padded._norms = np.append(padded._norms, np.zeros(room))
    padded._last_used = np.append(padded._last_used, np.zeros(room))
    for value in values[1500:]:
        point = {"value": value}
        assert grown.score_one(point) == padded.score_one(point)
        grown.learn_one(point)
        padded.learn_one(point)
    assert grown._categories == grown.capacity
    assert np.array_equal(grown._weights, padded._weights)
    assert np.array_equal(grown._last_used, padded._last_used)


def test_a_snapshot_of_float64_rows_loads_as_float32_and_scores_alike() -> None:
    """Issue 20: category rows are float32. A snapshot written before (float64 rows, padded to
    ``capacity`` as the layout before the growing rows) loads with float32 rows whose norms are
    their sums, and scores within float32 rounding of the float64 detector it came from."""
    rng = np.random.default_rng(4)
    values = (10.0 * np.sin(np.arange(3000) / 30.0) + rng.normal(0.0, 2.0, 3000)).tolist()
    wide = AdaptiveResonance(capacity=32)
    for value in values[:1500]:
        wide.learn_one({"value": value})
    room = wide.capacity - wide._categories
    wide._weights = np.vstack(
        (wide._weights.astype(np.float64), np.zeros((room, 2 * wide.dimension)))
    )
    wide._norms = np.append(wide._weights[: wide._categories].sum(axis=1), np.zeros(room))
    wide._last_used = np.append(wide._last_used, np.zeros(room))
    loaded = pickle.loads(pickle.dumps(wide))
    assert loaded._weights.dtype == np.float32 and wide._weights.dtype == np.float64
    assert np.allclose(loaded._norms, loaded._weights.sum(axis=1, dtype=np.float64))
    for value in values[1500:2000]:
        point = {"value": value}
        assert loaded.score_one(point) == pytest.approx(wide.score_one(point), abs=1e-5)
        loaded.learn_one(point)
        wide.learn_one(point)
    assert loaded._weights.dtype == np.float32
