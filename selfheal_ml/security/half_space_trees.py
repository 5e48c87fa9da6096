"""Half-space trees (Tan, Ting and Liu, IJCAI 2011) for :class:`~.novelty.AccessNovelty`.

The same algorithm, random draws and scores as river's ``anomaly.HalfSpaceTrees`` (0.26):
``n_trees`` random trees of height ``height`` split the feature box at random points (each
split feature drawn with a weight equal to its range, the threshold drawn uniformly inside
the middle 70 % of its range), built depth first from one ``random.Random(seed)`` on the first
point learned. Each node counts the points of the current window that reach it (``l_mass``);
every ``window_size`` points those counts become the reference masses (``r_mass``) and start
over. A point's score is ``1 - sum(r_mass * 2 ** depth) / max`` along its path in every tree,
a path that stops at the first node whose reference mass is below a tenth of the window; 0
until the first window is complete.

Why not river's class: importing ``river.anomaly`` imports river's datasets, drift detectors
and stream helpers, and with them scikit-learn, pandas, SciPy and SQLAlchemy: about 150 MB of
RSS in the service process for this one model. Here a tree is four flat lists in heap order
(the children of node ``i`` are ``2i + 1`` and ``2i + 2``).
``tests/unit/security/test_half_space_trees.py`` checks the scores equal river's.

>>> trees = HalfSpaceTrees(n_trees=3, height=3, window_size=4, seed=1)
>>> for value in (0.2, 0.25, 0.3, 0.22, 0.21, 0.27, 0.24, 0.26):
...     trees.learn_one({"x": value})
>>> trees.score_one({"x": 0.24}) < trees.score_one({"x": 0.95})
True
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

PADDING = 0.15  # share of a feature's range kept clear of splits on each side
SIZE_LIMIT_SHARE = 0.1  # scoring stops at a node that held less than this share of a window


@dataclass
class _Tree:
    """One tree in heap order: split feature and threshold per branch, masses per node."""

    features: list[str]
    thresholds: list[float]
    l_mass: list[int]
    r_mass: list[int]


class HalfSpaceTrees:
    """Streaming half-space trees over features in ``[0, 1]`` (module docstring)."""

    def __init__(
        self, n_trees: int = 10, height: int = 8, window_size: int = 250, seed: int | None = None
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self._rng = random.Random(seed)
        self._trees: list[_Tree] = []
        self._counter = 0
        self._first_window = True

    @property
    def _max_score(self) -> int:
        return self.n_trees * self.window_size * ((1 << (self.height + 1)) - 1)

    def learn_one(self, x: Mapping[str, float]) -> None:
        """Count ``x`` on its path in every tree; pivot the masses at the end of a window."""
        if not self._trees:
            self._trees = [self._grow(sorted(x)) for _ in range(self.n_trees)]
        levels = range(self.height)
        for tree in self._trees:
            features, thresholds, l_mass = tree.features, tree.thresholds, tree.l_mass
            node = 0
            for _ in levels:  # _child inlined: this loop is the model's whole cost
                l_mass[node] += 1
                left = 2 * node + 1
                value = x.get(features[node])
                if value is None:
                    node = left + 1 if l_mass[left] < l_mass[left + 1] else left
                else:
                    node = left if value < thresholds[node] else left + 1
            l_mass[node] += 1
        self._counter += 1
        if self._counter == self.window_size:
            for tree in self._trees:
                tree.r_mass[:] = tree.l_mass
                tree.l_mass[:] = [0] * len(tree.l_mass)
            self._first_window = False
            self._counter = 0

    def score_one(self, x: Mapping[str, float]) -> float:
        """``x``'s anomaly score in ``[0, 1]`` (higher: more unusual); 0 in the first window."""
        if self._first_window:
            return 0.0
        size_limit = SIZE_LIMIT_SHARE * self.window_size
        score = 0.0
        levels = range(self.height)
        for tree in self._trees:
            r_mass = tree.r_mass
            node, depth_pow = 0, 1
            for _ in levels:
                mass = r_mass[node]
                score += mass * depth_pow
                if mass < size_limit:
                    break
                node = self._child(tree, node, x)
                depth_pow <<= 1
            else:
                score += r_mass[node] * depth_pow
        return 1.0 - score / self._max_score

    @staticmethod
    def _child(tree: _Tree, node: int, x: Mapping[str, float]) -> int:
        """The child of branch ``node`` that ``x`` goes to (a missing feature: the child that
        held more of the current window, the left one on a tie)."""
        left = 2 * node + 1
        value = x.get(tree.features[node])
        if value is None:
            return left + 1 if tree.l_mass[left] < tree.l_mass[left + 1] else left
        return left if value < tree.thresholds[node] else left + 1

    def _grow(self, names: list[str]) -> _Tree:
        """A random tree over features ``names`` (each in ``[0, 1]``), drawn depth first."""
        nodes = (1 << (self.height + 1)) - 1
        tree = _Tree([""] * nodes, [0.0] * nodes, [0] * nodes, [0] * nodes)
        limits = {name: (0.0, 1.0) for name in names}
        self._split(tree, 0, self.height, limits)
        return tree

    def _split(
        self, tree: _Tree, node: int, height: int, limits: dict[str, tuple[float, float]]
    ) -> None:
        if height == 0:
            return
        population = list(limits)
        on = self._rng.choices(population, weights=[high - low for low, high in limits.values()])[0]
        low, high = limits[on]
        at = self._rng.uniform(low + PADDING * (high - low), high - PADDING * (high - low))
        tree.features[node], tree.thresholds[node] = on, at
        limits[on] = (low, at)
        self._split(tree, 2 * node + 1, height - 1, limits)
        limits[on] = (at, high)
        self._split(tree, 2 * node + 2, height - 1, limits)
        limits[on] = (low, high)
