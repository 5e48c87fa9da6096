"""Tree ensembles of a serving form, in numpy: what scikit-learn computes for them.

Both ensembles are flat node arrays (all trees one after the other, child indices global),
walked for every (row, tree) pair at once, one level per step:

- :class:`ForestScores` (``RandomForestClassifier``): rows cast to float32 as scikit-learn's
  trees do, ``x <= threshold`` goes left, a missing value goes where ``missing_go_to_left``
  says; a tree's answer is its leaf's class fractions, and the forest's is their sum over the
  trees in order, divided by the number of trees; ``predict`` is the most probable class;
- :class:`BoostingScores` (``HistGradientBoostingClassifier`` on numeric features): float64
  rows, raw thresholds (``num_threshold``, not the bins), the same missing-value rule; the raw
  score per class is the baseline plus the iterations' leaf values in order, then ``expit``
  (two classes) or the softmax; ``predict`` is the most probable class.

>>> nodes = TreeNodes(left=np.array([1, -1, -1]), right=np.array([2, -1, -1]),
...     feature=np.array([0, 0, 0]), threshold=np.array([0.5, 0.0, 0.0]),
...     missing_left=np.array([True, False, False]), roots=np.array([0]))
>>> forest = ForestScores(nodes, np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]]))
>>> forest.probabilities(np.array([[0.0], [1.0], [np.nan]])).tolist()
[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfheal_ml.serving.linear import expit, softmax


@dataclass(frozen=True)
class TreeNodes:
    """All trees' nodes: children (global indices, ``-1`` at a leaf), split feature and
    threshold, where a missing value goes, and each tree's root."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    roots: np.ndarray

    def leaves(self, features: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree: shape (rows, trees)."""
        rows = features.shape[0]
        row_of = np.repeat(np.arange(rows), len(self.roots))
        node = np.tile(self.roots, rows)
        active = np.flatnonzero(self.left[node] >= 0)
        while len(active):
            current = node[active]
            value = features[row_of[active], self.feature[current]]
            go_left = np.where(
                np.isnan(value), self.missing_left[current], value <= self.threshold[current]
            )
            node[active] = np.where(go_left, self.left[current], self.right[current])
            active = active[self.left[node[active]] >= 0]
        return node.reshape(rows, len(self.roots))


@dataclass(frozen=True)
class ForestScores:
    """A random forest: its nodes and each node's class fractions (nodes x classes)."""

    nodes: TreeNodes
    value: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Mean of the trees' leaf fractions (summed in tree order, as scikit-learn does)."""
        leaves = self.nodes.leaves(np.asarray(features, dtype=np.float32))
        total = np.zeros((leaves.shape[0], self.value.shape[1]), dtype=np.float64)
        for tree in range(leaves.shape[1]):
            total += self.value[leaves[:, tree]]
        total /= leaves.shape[1]
        return total

    def predicted_index(self, features: np.ndarray) -> np.ndarray:
        """The most probable class per row."""
        return np.asarray(self.probabilities(features).argmax(axis=1), dtype=np.int64)


@dataclass(frozen=True)
class BoostingScores:
    """Gradient-boosted trees: nodes (trees ordered by iteration, then class), each node's
    value, the baseline raw score per class, and how many trees one iteration has."""

    nodes: TreeNodes
    value: np.ndarray
    baseline: np.ndarray
    trees_per_iteration: int

    def raw(self, features: np.ndarray) -> np.ndarray:
        """Baseline plus every iteration's leaf values, per class (rows x trees per iteration)."""
        leaves = self.nodes.leaves(np.asarray(features, dtype=np.float64))
        per_class = self.trees_per_iteration
        raw = np.zeros((leaves.shape[0], per_class), dtype=np.float64)
        raw += self.baseline
        for first in range(0, leaves.shape[1], per_class):
            raw += self.value[leaves[:, first : first + per_class]]
        return raw

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``expit`` of the raw score and its complement (two classes), else the softmax."""
        raw = self.raw(features)
        if raw.shape[1] == 1:
            positive = expit(raw[:, 0])
            return np.stack([1 - positive, positive], axis=1)
        return softmax(raw)

    def predicted_index(self, features: np.ndarray) -> np.ndarray:
        """The most probable class per row."""
        return np.asarray(self.probabilities(features).argmax(axis=1), dtype=np.int64)
