"""Every registered detector honours the detector contract (river's ``checks`` in spirit).

Clone gives a fresh detector with equal parameters; ``learn_one`` and ``score_one`` do not mutate
their input; scores are finite and non-negative, 0 at the start; the same construction gives the
same scores; a pickle round trip keeps the state; features may appear and disappear.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from selfheal_ml.anomaly import DETECTORS, Detector
from selfheal_ml.anomaly.robust_zscore import RollingMedianScore
from selfheal_ml.anomaly.sequence_surprise import SequenceSurprise

FACTORIES: dict[str, Callable[[], Detector]] = {
    **DETECTORS,
    "raw-median": lambda: RollingMedianScore(window=60, warmup=10),
    "raw-surprise": lambda: SequenceSurprise(levels=4, warmup=50),
}


def stream(seed: int, n_points: int = 700) -> list[dict[str, float]]:
    """A noisy daily-ish cycle with a few spikes and a level shift, one point a minute."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n_points)
    values = 10.0 + 3.0 * np.sin(steps / 40.0) + rng.normal(0.0, 0.5, n_points)
    values[rng.choice(n_points, 5, replace=False)] += 25.0
    values[int(0.8 * n_points) :] += 8.0
    return [
        {"value": float(v), "timestamp_s": 60.0 * float(t)}
        for t, v in zip(steps, values, strict=True)
    ]


def run(detector: Detector, points: list[dict[str, float]]) -> list[float]:
    scores = []
    for point in points:
        scores.append(detector.score_one(point))
        detector.learn_one(point)
    return scores


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Callable[[], Detector]:
    return FACTORIES[request.param]


def test_clone_is_fresh_with_equal_parameters(factory: Callable[[], Detector]) -> None:
    trained = factory()
    run(trained, stream(0))
    clone = trained.clone()
    assert repr(clone) == repr(trained)
    assert clone is not trained
    points = stream(1)
    assert run(clone, points) == run(factory(), points)


def test_input_is_not_mutated(factory: Callable[[], Detector]) -> None:
    detector = factory()
    for point in stream(2, 400):
        before = dict(point)
        detector.score_one(point)
        detector.learn_one(point)
        assert point == before


def test_scores_are_finite_non_negative_and_zero_at_start(
    factory: Callable[[], Detector],
) -> None:
    scores = run(factory(), stream(3))
    assert scores[0] == 0.0
    assert all(math.isfinite(score) and score >= 0.0 for score in scores)
    assert max(scores) > 0.0


def test_same_construction_same_scores(factory: Callable[[], Detector]) -> None:
    points = stream(4)
    assert run(factory(), points) == run(factory(), points)


def test_scoring_does_not_learn(factory: Callable[[], Detector]) -> None:
    points = stream(5, 500)
    detector = factory()
    run(detector, points[:400])
    probe = points[400]
    assert detector.score_one(probe) == detector.score_one(probe)
    reference = factory()
    run(reference, points[:400])
    assert run(detector, points[400:]) == run(reference, points[400:])


def test_pickle_round_trip_keeps_state(factory: Callable[[], Detector]) -> None:
    points = stream(6)
    detector = factory()
    run(detector, points[:500])
    restored = pickle.loads(pickle.dumps(detector))
    assert run(restored, points[500:]) == run(detector, points[500:])


def test_features_may_appear_and_disappear(factory: Callable[[], Detector]) -> None:
    detector = factory()
    for index, point in enumerate(stream(7, 500)):
        if index % 7 == 0:
            point = {"timestamp_s": point["timestamp_s"]}
        elif index % 5 == 0:
            point = {**point, "extra": 1.0}
        elif index % 11 == 0:
            point = {"value": float("nan"), "timestamp_s": point["timestamp_s"]}
        score = detector.score_one(point)
        assert math.isfinite(score) and score >= 0.0
        detector.learn_one(point)
