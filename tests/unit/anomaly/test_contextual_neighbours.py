"""The conformal nearest-neighbour detector: ordinary shapes score low, new shapes high."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml.anomaly.contextual_neighbours import ContextualNeighbours


def periodic(seed: int, n_points: int = 1200) -> list[float]:
    rng = np.random.default_rng(seed)
    steps = np.arange(n_points)
    return (10.0 + 3.0 * np.sin(2 * np.pi * steps / 48.0) + rng.normal(0.0, 0.2, n_points)).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_shape_never_seen_scores_far_above_ordinary_shapes(seed: int) -> None:
    detector = ContextualNeighbours(block=2, dimension=6)
    ordinary = []
    for value in periodic(seed):
        ordinary.append(detector.score_one({"value": value}))
        detector.learn_one({"value": value})
    # a flat stretch at the cycle's top: a window shape the reference never held
    strange = []
    for _ in range(12):
        strange.append(detector.score_one({"value": 13.0}))
        detector.learn_one({"value": 13.0})
    assert max(strange) > 3.0 * float(np.median(ordinary[-400:]))


def test_scoring_does_not_learn() -> None:
    detector = ContextualNeighbours(block=1, dimension=4)
    for value in periodic(3, 400):
        detector.learn_one({"value": value})
    first = detector.score_one({"value": 25.0})
    assert detector.score_one({"value": 25.0}) == first
    assert detector.score_one({"value": 10.0}) <= first


def test_anomalous_windows_do_not_join_the_reference() -> None:
    detector = ContextualNeighbours(block=1, dimension=4, accept=3.0)
    for value in periodic(4, 600):
        detector.learn_one({"value": value})
    stored = detector._stored
    detector.learn_one({"value": 500.0})
    assert detector._stored == stored  # raw score far above accept: not a reference shape
