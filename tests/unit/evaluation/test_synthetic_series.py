"""The synthetic generators: shapes as documented, labels inside the series, reproducible."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from selfheal_ml.evaluation.synthetic_series import (
    GENERATORS,
    SyntheticSeries,
    flat_stretches,
    irregular_with_gaps,
    low_counts,
    short_series,
)


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda g: g.__name__)
@pytest.mark.parametrize("seed", [0, 7])
def test_series_are_ordered_finite_labelled_and_reproducible(
    generator: Callable[[int], SyntheticSeries], seed: int
) -> None:
    series = generator(seed)
    assert np.all(np.diff(series.timestamps_s) > 0)
    assert np.isfinite(series.values).all()
    assert series.anomalies and all(
        0 <= first <= last < series.values.size for first, last in series.anomalies
    )
    again = generator(seed)
    assert np.array_equal(again.values, series.values)


def test_each_generator_has_its_shape() -> None:
    gaps = np.diff(irregular_with_gaps(0).timestamps_s)
    assert gaps.min() < 60.0 < gaps.max() and (gaps > 3600.0).sum() == 3
    counts = low_counts(0).values
    assert np.array_equal(counts, np.round(counts)) and np.median(counts) == 0.0
    flat = flat_stretches(0).values
    assert (np.diff(flat) == 0.0).mean() > 0.99
    assert short_series(0).values.size < 1500
