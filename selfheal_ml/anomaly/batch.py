"""Batch scoring: run a named detector over a whole stored series, strictly online.

Used by evaluation pipelines (NAB) and backfills: each point is scored before it is learned and
nothing looks ahead. Registry baselines run exactly as shipped (raw ``score_one`` then
``learn_one``); every other detector runs through the product pipeline
(:class:`~selfheal_ml.anomaly.scoring.SeriesScorer`), and its gated calibrated score is reported.

>>> import numpy as np
>>> values = np.r_[np.tile([1.0, 2.0, 3.0], 300), [50.0]]
>>> scores = score_series("default", np.arange(values.size) * 60.0, values)
>>> scores.shape, bool(scores[-1] > 5.0), bool(scores[:-1].max() < 5.0)
((901,), True, True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.registry import BASELINES, build_ensemble, make_detector
from selfheal_ml.anomaly.scoring import ScoringConfig, SeriesScorer
from selfheal_ml.anomaly.tuning import TUNING_GRID


def score_series(
    name: str,
    timestamps_s: npt.ArrayLike,
    values: npt.ArrayLike,
    config: ScoringConfig | None = None,
) -> npt.NDArray[np.float64]:
    """One score per point of the series, in order (epoch seconds, values).

    ``name`` is a registry detector or a tuning-grid candidate (which brings its own config).
    """
    times = np.asarray(timestamps_s, dtype=np.float64).tolist()
    numbers = np.asarray(values, dtype=np.float64).tolist()
    scores = np.zeros(len(numbers))
    candidate = TUNING_GRID.get(name)
    detector: Detector
    if candidate is not None:
        detector = build_ensemble(candidate.settings)
        config = config or candidate.scoring
    else:
        detector = make_detector(name)
    if name in BASELINES:
        for index, (ts_s, value) in enumerate(zip(times, numbers, strict=True)):
            point = {VALUE_KEY: value, TIME_KEY: ts_s}
            scores[index] = detector.score_one(point)
            detector.learn_one(point)
        return scores
    scorer = SeriesScorer(detector, config)
    for index, (ts_s, value) in enumerate(zip(times, numbers, strict=True)):
        scores[index] = scorer.process(ts_s, value).score
    return scores


def to_unit_interval(scores: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.float64]:
    """Monotone map of calibrated scores onto [0, 1): ``s / (s + threshold)``, 0.5 at threshold.

    >>> to_unit_interval(np.array([0.0, 5.0, 15.0]), 5.0).tolist()
    [0.0, 0.5, 0.75]
    """
    return scores / (scores + threshold)
