"""The percentile both evaluation reports cut their times with (inclusive, whole percents)."""

from __future__ import annotations

from selfheal_ml.evaluation.detection import percentile


def test_percentile_of_nothing_or_one_value() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0


def test_percentile_median_ignores_input_order() -> None:
    assert percentile([30.0, 10.0, 20.0], 0.5) == 20.0


def test_percentile_interpolates_inclusively() -> None:
    # inclusive method on (100, 200): the i-th percentile is 100 + i
    assert percentile([200.0, 100.0], 0.95) == 195.0
    assert percentile([100.0, 200.0], 0.5) == 150.0
    assert percentile([100.0, 200.0], 0.25) == 125.0


def test_percentile_extremes_are_the_1st_and_99th_percentiles() -> None:
    assert percentile([100.0, 200.0], 1.0) == 199.0
    assert percentile([100.0, 200.0], 0.0) == 101.0
