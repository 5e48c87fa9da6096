"""The ensemble's fused hot path gives the scores of its components run one by one (issue 15).

The reference is each component's own ``score_one`` / ``learn_one`` (the
:class:`~selfheal_ml.anomaly.calibration.Calibrated` wrappers included) and the plain maximum,
as the ensemble computed it before its loop fused the wrappers: every score and every
"component that fired" must match exactly, whatever the values (missing, NaN), whether a point
is learned (the pipeline's protection skips some) and across a pickle round trip.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.anomaly.adaptive_resonance import AdaptiveResonance
from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.calibration import Calibrated
from selfheal_ml.anomaly.ensemble import MaxEnsemble
from selfheal_ml.anomaly.extreme_value import NewExtreme
from selfheal_ml.anomaly.registry import default_detector
from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
from selfheal_ml.anomaly.seasonal_profile import SeasonalResidual
from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise


def small_ensemble() -> MaxEnsemble:
    """The default's structure with warm-ups short enough for a few hundred points."""
    return MaxEnsemble(
        {
            "extreme": NewExtreme(memory=50, warmup=5, tolerance=0.1),
            "surprise": Calibrated(
                SequenceSurprise(levels=3, order=2, warmup=10), long_window=30, min_history=5
            ),
            "median": Calibrated(
                RollingMedianScore(window=20, warmup=5), long_window=30, min_history=5
            ),
            "resonance": Calibrated(
                AdaptiveResonance(block=2, dimension=3, warmup=12, capacity=8),
                long_window=30,
                min_history=5,
            ),
            "daily": Calibrated(
                SeasonalResidual(600.0, 6, smoothing=0.25, min_visits=1),
                long_window=30,
                min_history=5,
            ),
        },
        range_from="median",
    )


class Reference:
    """The ensemble's components driven one by one, the maximum taken as before the fusion."""

    def __init__(self, ensemble: MaxEnsemble) -> None:
        self.components: dict[str, Detector] = ensemble.components
        self.last = next(iter(self.components))

    def score_one(self, x: Mapping[str, float]) -> float:
        best_score, best_name = 0.0, None
        for name, detector in self.components.items():
            score = detector.score_one(x)
            if score > best_score:
                best_score, best_name = score, name
        self.last = best_name or self.last
        return best_score

    def learn_one(self, x: Mapping[str, float]) -> None:
        for detector in self.components.values():
            detector.learn_one(x)


def point(value: float | None, ts_s: float | None) -> dict[str, float]:
    x = {}
    if value is not None:
        x[VALUE_KEY] = value
    if ts_s is not None:
        x[TIME_KEY] = ts_s
    return x


steps = st.lists(
    st.tuples(
        st.one_of(
            st.floats(-1e3, 1e3, allow_nan=False),
            st.sampled_from([0.0, 1.0, 5.0, 5.5, 100.0, math.nan, None]),
        ),
        st.booleans(),  # the timestamp is present
        st.sampled_from(["learn", "learn", "learn", "skip", "rescore"]),
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(steps, st.booleans())
def test_the_fused_path_matches_the_components_one_by_one(
    trace: list[tuple[float | None, bool, str]], by_value: bool
) -> None:
    fused, reference = small_ensemble(), Reference(small_ensemble())
    for index, (value, timed, action) in enumerate(trace):
        ts_s = 1.7e9 + 60.0 * index if timed else None
        x, y = point(value, ts_s), point(value, ts_s)
        numbers = by_value and value is not None and not math.isnan(value) and ts_s is not None
        number, at = (value or 0.0, ts_s or 0.0)
        for _ in range(2 if action == "rescore" else 1):
            got = fused.score_value(number, at) if numbers else fused.score_one(x)
            assert got == reference.score_one(y)
            assert fused.component() == reference.last
        if action != "skip":
            if numbers:
                fused.learn_value(number, at)
            else:
                fused.learn_one(x)
            reference.learn_one(y)


def test_the_default_detector_matches_its_components_one_by_one() -> None:
    rng = np.random.default_rng(3)
    count = 6000
    times = 60.0 * np.arange(count)
    values = 50.0 + 10.0 * np.sin(2 * np.pi * times / 86_400.0) + rng.normal(0.0, 2.0, count)
    values[rng.choice(count, 30, replace=False)] += 40.0
    fused, reference = default_detector(), Reference(default_detector())
    for ts_s, value in zip(times.tolist(), values.tolist(), strict=True):
        x, y = point(value, ts_s), point(value, ts_s)
        assert fused.score_one(x) == reference.score_one(y)
        assert fused.component() == reference.last
        fused.learn_one(x)
        reference.learn_one(y)


def test_a_pickled_ensemble_goes_on_exactly_as_the_original() -> None:
    ensemble = small_ensemble()
    trace: list[Any] = []
    for index in range(200):
        ensemble.score_value(float(index % 7), 60.0 * index)
        ensemble.learn_value(float(index % 7), 60.0 * index)
    copy = pickle.loads(pickle.dumps(ensemble))
    for index in range(200, 400):
        value, ts_s = float(index % 7) + (9.0 if index % 50 == 0 else 0.0), 60.0 * index
        trace.append((ensemble.score_value(value, ts_s), copy.score_value(value, ts_s)))
        assert ensemble.component() == copy.component()
        ensemble.learn_value(value, ts_s)
        copy.learn_value(value, ts_s)
    assert all(a == b for a, b in trace)
    assert any(a > 0.0 for a, _ in trace)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=200, max_size=400))
def test_the_settled_loop_matches_the_components_one_by_one(values: list[float]) -> None:
    """Once every calibrator has its minimum history the score loop skips that check (the
    per-point fast path of issue 15): the scores stay those of the components one by one."""
    fused, reference = small_ensemble(), Reference(small_ensemble())
    for index, value in enumerate(values):
        ts_s = 1.7e9 + 60.0 * index
        assert fused.score_value(value, ts_s) == reference.score_one(point(value, ts_s))
        assert fused.component() == reference.last
        fused.learn_value(value, ts_s)
        reference.learn_one(point(value, ts_s))
    assert fused._settled  # the fast path was taken for the later points
