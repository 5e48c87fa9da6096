"""RollingMedianScore: the median and scale it reuses between calls follow every learned point."""

from __future__ import annotations

import numpy as np

from selfheal_ml.anomaly import RollingMedianScore
from selfheal_ml.anomaly.robust_zscore import IQR_TO_STD


def test_scores_follow_the_window_after_every_learned_point() -> None:
    rng = np.random.default_rng(5)
    detector = RollingMedianScore(window=40, warmup=10)
    window: list[float] = []
    for value in rng.normal(50.0, 5.0, 200).tolist():
        low_high = detector.expected_range()
        score = detector.score_one({"value": value})
        if len(window) >= 10:
            ordered = sorted(window)
            count = len(ordered)
            median = float(np.median(ordered))
            spread = (ordered[(3 * count) // 4] - ordered[count // 4]) / IQR_TO_STD
            scale = max(spread, 1e-3 * abs(median))
            assert score == abs(value - median) / scale
            assert low_high == (median - 3.0 * scale, median + 3.0 * scale)
        else:
            assert score == 0.0 and low_high is None
        detector.learn_one({"value": value})
        window = [*window, value][-40:]
    detector.learn_many(np.array([500.0] * 40), np.arange(40.0))
    assert detector.score_one({"value": 500.0}) == 0.0
