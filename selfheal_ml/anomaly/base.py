"""The detector contract every anomaly detector follows (river's ``AnomalyDetector`` API).

A detector sees one point at a time as a feature dict. ``score_one(x)`` returns how anomalous
``x`` looks given everything learned so far (higher is more anomalous, always finite, 0 during
warm-up) and must be called *before* ``learn_one(x)`` updates the state with it. ``score_one``
does not change what the detector has learned. ``clone()`` returns a fresh, unfitted detector
with the same parameters (``__init__`` stores its arguments verbatim as attributes).

``learn_many(values, timestamps_s)`` learns a whole stored history at once (re-warming).

``score_value(value, ts_s)`` and ``learn_value(value, ts_s)`` are ``score_one`` and
``learn_one`` of the point ``{VALUE_KEY: value, TIME_KEY: ts_s}`` (finite floats): the hot path
of the scoring pipeline, which has the two numbers and no dict. A detector whose output depends
on those two features only says so with ``reads_value_and_time_only()`` and overrides them to
skip building and reading the dict (issue 15: every point of every series goes through them).

Univariate detectors read ``x[VALUE_KEY]`` (and, if seasonal, ``x[TIME_KEY]`` in epoch seconds);
a point without the feature scores 0 and is not learned, so features may appear and disappear.
"""

from __future__ import annotations

import copy
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

VALUE_KEY = "value"
TIME_KEY = "timestamp_s"


class Detector(ABC):
    """Base class of streaming anomaly detectors.

    ``output_is_calibrated`` says whether scores are already on the z-like calibrated scale
    (see :mod:`selfheal_ml.anomaly.calibration`); raw detectors get a calibrator in front of
    the alert policy.
    """

    output_is_calibrated: ClassVar[bool] = False

    @abstractmethod
    def learn_one(self, x: Mapping[str, float]) -> None:
        """Update the state with one point (after it was scored)."""

    @abstractmethod
    def score_one(self, x: Mapping[str, float]) -> float:
        """Anomaly score of one point: >= 0, finite, 0 during warm-up."""

    def score_value(self, value: float, ts_s: float) -> float:
        """``score_one({VALUE_KEY: value, TIME_KEY: ts_s})`` of finite ``value`` and ``ts_s``."""
        return self.score_one({VALUE_KEY: value, TIME_KEY: ts_s})

    def learn_value(self, value: float, ts_s: float) -> None:
        """``learn_one({VALUE_KEY: value, TIME_KEY: ts_s})`` of finite ``value`` and ``ts_s``."""
        self.learn_one({VALUE_KEY: value, TIME_KEY: ts_s})

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """``score_value`` then ``learn_value`` for each point in order (finite floats,
        oldest first): strictly online, every point scored before it is learned, and the
        same scores and state as that loop. The batch path of a series whose points are all
        learned; detectors override it with a loop that keeps their state in locals."""
        score, learn = self.score_value, self.learn_value
        scores = []
        for value, ts_s in zip(values, timestamps_s, strict=True):
            scores.append(score(value, ts_s))
            learn(value, ts_s)
        return scores

    def reads_value_and_time_only(self) -> bool:
        """Whether scores depend on ``x[VALUE_KEY]`` and ``x[TIME_KEY]`` only, and
        ``score_value`` / ``learn_value`` are overridden to work on the two numbers directly
        (then a caller may pass them instead of the dict). An override reads ``value`` as the
        detector's feature: it equals ``score_one`` of the dict only when this is True."""
        return False

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Learn a batch of finite values of ``VALUE_KEY`` (oldest first), as ``learn_one`` would.

        The batch path for re-warming from stored history; detectors override it with a
        vectorised version that reaches the same state (see each override for any deviation).
        """
        for value, ts_s in zip(values.tolist(), timestamps_s.tolist(), strict=True):
            self.learn_one({VALUE_KEY: value, TIME_KEY: ts_s})

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` arguments, read back from the attributes of the same name."""
        signature = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name in signature.parameters
            if name != "self" and hasattr(self, name)
        }

    def clone(self) -> Self:
        """A fresh detector with the same parameters and no learned state."""
        params = {key: copy.deepcopy(value) for key, value in self.get_params().items()}
        return type(self)(**params)

    def warmed_up(self) -> bool:
        """Whether the detector has seen enough to score (scores are 0 before)."""
        return True

    def expected_range(self) -> tuple[float, float] | None:
        """Where the next value is expected to fall, or None when the detector cannot say."""
        return None

    def component(self) -> str:
        """The name of the part that produced the last score (the class name by default)."""
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({args})"


def read_value(x: Mapping[str, float], key: str = VALUE_KEY) -> float | None:
    """The finite value of feature ``key`` in ``x``, or None when absent or not finite.

    >>> read_value({"value": 2.5}), read_value({"other": 1.0}), read_value({"value": float("nan")})
    (2.5, None, None)
    """
    value = x.get(key)
    if value is None or value - value != 0.0:  # absent, NaN or infinite
        return None
    return float(value)


def finite_or_zero(score: float) -> float:
    """Clamp a score into the contract: finite and non-negative.

    >>> finite_or_zero(float("inf")), finite_or_zero(-2.0), finite_or_zero(1.5)
    (0.0, 0.0, 1.5)
    """
    return score if math.isfinite(score) and score > 0.0 else 0.0
