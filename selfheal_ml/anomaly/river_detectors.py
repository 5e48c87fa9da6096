"""river-based detectors: river's HalfSpaceTrees, given features and a scaling it can use.

``HalfSpaceTrees`` wants every feature in [0, 1]. river's ``MinMaxScaler`` stretches the range
seen so far, so early points get extreme scaled values and every new extreme rescales the past:
that is why ``MinMaxScaler | HalfSpaceTrees`` scores so poorly on NAB. :class:`ScaledHalfSpaceTrees`
instead standardises each feature against a rolling window (z-score clipped to +-``clip``, mapped
to [0, 1]) and adds the first difference, so both level and sudden changes are visible.

:class:`RiverModel` wraps any river anomaly model (e.g. the ``MinMaxScaler | HalfSpaceTrees``
baseline) in the detector contract, keeping only the listed features.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from river import anomaly, compose, preprocessing

from selfheal_ml.anomaly.base import VALUE_KEY, Detector, finite_or_zero, read_value
from selfheal_ml.anomaly.rolling import RollingMoments


class RiverModel(Detector):
    """Any river anomaly model (``learn_one``/``score_one``) restricted to ``features``.

    >>> detector = river_baseline(seed=1)
    >>> for step in range(100):
    ...     detector.learn_one({"value": float(step % 10)})
    >>> 0.0 <= detector.score_one({"value": 5.0}) <= 1.0
    True
    """

    def __init__(self, model: Any, features: tuple[str, ...] = (VALUE_KEY,)) -> None:
        self.model = model
        self.features = features

    def clone(self) -> RiverModel:
        return RiverModel(self.model.clone(), self.features)

    def _select(self, x: Mapping[str, float]) -> dict[str, float]:
        return {key: value for key in self.features if (value := read_value(x, key)) is not None}

    def score_one(self, x: Mapping[str, float]) -> float:
        selected = self._select(x)
        return finite_or_zero(float(self.model.score_one(selected))) if selected else 0.0

    def learn_one(self, x: Mapping[str, float]) -> None:
        selected = self._select(x)
        if selected:
            self.model.learn_one(selected)


def river_baseline(seed: int = 42) -> RiverModel:
    """river out of the box: ``MinMaxScaler() | HalfSpaceTrees(seed=seed)`` on the raw value."""
    model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=seed))
    return RiverModel(model)


class ScaledHalfSpaceTrees(Detector):
    """HalfSpaceTrees over rolling-standardised value and first difference.

    >>> detector = ScaledHalfSpaceTrees(window_size=50, seed=3)
    >>> for step in range(300):
    ...     detector.learn_one({"value": float(step % 7)})
    >>> detector.score_one({"value": 3.0}) < detector.score_one({"value": 60.0})
    True
    """

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 8,
        window_size: int = 250,
        scaling_window: int = 1000,
        clip: float = 4.0,
        seed: int = 42,
        feature: str = VALUE_KEY,
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.scaling_window = scaling_window
        self.clip = clip
        self.seed = seed
        self.feature = feature
        self._trees: Any = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=window_size, seed=seed
        )
        self._levels = RollingMoments(scaling_window)
        self._changes = RollingMoments(scaling_window)

    def _unit(self, value: float, moments: RollingMoments) -> float:
        spread = moments.std() or 1.0
        z = (value - moments.mean()) / spread
        return 0.5 + max(-self.clip, min(self.clip, z)) / (2.0 * self.clip)

    def _features(self, value: float) -> dict[str, float]:
        change = value - self._levels.last() if self._levels.count else 0.0
        return {
            "level": self._unit(value, self._levels),
            "change": self._unit(change, self._changes),
        }

    def warmed_up(self) -> bool:
        return self._levels.count >= self.window_size

    def score_one(self, x: Mapping[str, float]) -> float:
        value = read_value(x, self.feature)
        if value is None or self._levels.count < self.window_size:
            return 0.0
        return finite_or_zero(float(self._trees.score_one(self._features(value))))

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = read_value(x, self.feature)
        if value is None:
            return
        self._trees.learn_one(self._features(value))
        if self._levels.count:
            self._changes.update(value - self._levels.last())
        self._levels.update(value)
