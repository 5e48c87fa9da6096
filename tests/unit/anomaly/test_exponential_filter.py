"""exponential_filter equals scipy's lfilter (what it replaced) and the plain recursion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from selfheal_ml.anomaly.exponential_filter import exponential_filter


def _recursion(values: np.ndarray, rate: float, start: float) -> np.ndarray:
    out, level = [], start
    for value in values.tolist():
        level = (1.0 - rate) * level + rate * value
        out.append(level)
    return np.array(out)


@pytest.mark.parametrize("rate", [0.0, 1e-4, 0.01, 0.134, 0.25, 0.9, 0.999, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_lfilter_and_the_recursion(rate: float, seed: int) -> None:
    draw = np.random.default_rng(seed)
    values = draw.normal(50.0, 10.0, 20_000) * np.where(draw.random(20_000) < 0.01, 1e6, 1.0)
    start = float(draw.normal(50.0, 10.0))
    ours = exponential_filter(values, rate, start)
    theirs, _ = lfilter([rate], [1.0, rate - 1.0], values, zi=[(1.0 - rate) * start])
    scale = np.abs(values).max()
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12 * scale)
    assert np.allclose(ours, _recursion(values, rate, start), rtol=1e-9, atol=1e-12 * scale)


def test_empty_input_gives_an_empty_output() -> None:
    assert exponential_filter(np.zeros(0), 0.5, 3.0).size == 0
