"""The alert policy: threshold, minimum hits in a window, suppression after firing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.anomaly import AlertPolicy


def test_single_hit_fires_with_min_hits_one() -> None:
    policy = AlertPolicy(threshold=4.0, min_hits=1, suppress_s=0.0)
    assert [policy.update(t, s) for t, s in [(0, 3.9), (60, 4.0), (120, 1.0)]] == [
        False,
        True,
        False,
    ]


def test_min_hits_must_fall_inside_the_window() -> None:
    policy = AlertPolicy(threshold=4.0, min_hits=2, window_s=100.0, suppress_s=0.0)
    assert not policy.update(0.0, 5.0)
    assert not policy.update(200.0, 5.0)  # the first hit left the window
    assert policy.update(250.0, 5.0)


def test_suppression_silences_then_releases() -> None:
    policy = AlertPolicy(threshold=4.0, suppress_s=600.0)
    fired = [policy.update(60.0 * minute, 9.0) for minute in range(12)]
    assert fired == [True] + [False] * 9 + [True, False]


@pytest.mark.parametrize(
    ("argument", "value"), [("threshold", 0.0), ("threshold", float("nan")), ("min_hits", 0)]
)
def test_rejects_invalid_parameters(argument: str, value: float) -> None:
    with pytest.raises(ValueError, match=argument):
        AlertPolicy(**{argument: value})  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.floats(min_value=0.0, max_value=20.0), min_size=1, max_size=200),
    suppress_s=st.floats(min_value=0.0, max_value=3000.0),
    min_hits=st.integers(min_value=1, max_value=4),
)
def test_never_fires_twice_inside_its_suppression_window(
    scores: list[float], suppress_s: float, min_hits: int
) -> None:
    policy = AlertPolicy(threshold=5.0, min_hits=min_hits, window_s=300.0, suppress_s=suppress_s)
    times = [
        60.0 * index for index, score in enumerate(scores) if policy.update(60.0 * index, score)
    ]
    assert all(later - earlier >= suppress_s for earlier, later in itertools.pairwise(times))
    assert all(scores[int(t / 60.0)] >= 5.0 for t in times)
