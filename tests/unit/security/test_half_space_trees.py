"""HalfSpaceTrees gives river's scores exactly: same trees from the same seed, same masses."""

from __future__ import annotations

import random

import pytest
from river.anomaly import HalfSpaceTrees as RiverHalfSpaceTrees

from selfheal_ml.security.half_space_trees import HalfSpaceTrees


def _stream(seed: int, count: int, names: tuple[str, ...]) -> list[dict[str, float]]:
    """Points in [0, 1] with a cluster and rare outliers; some points miss a feature."""
    draw = random.Random(seed)
    points = []
    for _ in range(count):
        centre = 0.9 if draw.random() < 0.03 else 0.3
        point = {name: min(max(draw.gauss(centre, 0.08), 0.0), 1.0) for name in names}
        if draw.random() < 0.05:
            del point[draw.choice(names)]
        points.append(point)
    return points


@pytest.mark.parametrize(
    ("seed", "n_trees", "height", "window_size"),
    [(0, 10, 8, 250), (7, 3, 4, 20), (123, 5, 1, 7)],
)
def test_scores_equal_rivers(seed: int, n_trees: int, height: int, window_size: int) -> None:
    names = ("rate", "failed", "fresh_path", "writes")
    ours = HalfSpaceTrees(n_trees=n_trees, height=height, window_size=window_size, seed=seed)
    theirs = RiverHalfSpaceTrees(n_trees=n_trees, height=height, window_size=window_size, seed=seed)
    first = {name: 0.5 for name in names}  # the trees are built from the first point's features
    ours.learn_one(first)
    theirs.learn_one(first)
    scores = []
    for point in _stream(seed, 1500, names):
        expected = float(theirs.score_one(point))
        assert ours.score_one(point) == pytest.approx(expected, abs=1e-12)
        scores.append(expected)
        ours.learn_one(point)
        theirs.learn_one(point)
    assert len(set(scores)) > 10  # the comparison saw scores move, not a constant


def test_nothing_scores_before_the_first_window_is_complete() -> None:
    trees = HalfSpaceTrees(n_trees=2, height=3, window_size=5, seed=0)
    for step in range(4):
        trees.learn_one({"x": step / 4})
        assert trees.score_one({"x": 0.99}) == 0.0
    trees.learn_one({"x": 0.5})
    assert trees.score_one({"x": 0.99}) > 0.0
