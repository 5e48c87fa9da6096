"""Counter rates with resets and histogram quantiles, against hand-computed values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.collectors.counters import CounterTracker, HistogramTracker
from selfheal_ml.collectors.prometheus_math import (
    Bucket,
    bucket_increase,
    counter_increase,
    counter_rate,
    histogram_quantile,
    hit_ratio,
    parse_bucket_bound,
    sorted_buckets,
)
from selfheal_ml.errors import ValidationError

INF = math.inf
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def buckets_of(*pairs: tuple[float, float]) -> list[Bucket]:
    return [Bucket(bound, count) for bound, count in pairs]


# -- counters ---------------------------------------------------------------------------------


def test_counter_rate_without_reset_is_difference_over_time() -> None:
    assert counter_rate(previous=1000.0, current=1600.0, elapsed_s=60.0) == pytest.approx(10.0)


def test_counter_rate_after_reset_counts_from_zero() -> None:
    # The process restarted: 1600 -> 90 means 90 new events since the restart.
    assert counter_increase(1600.0, 90.0) == 90.0
    assert counter_rate(previous=1600.0, current=90.0, elapsed_s=30.0) == pytest.approx(3.0)


def test_counter_rate_flat_counter_is_zero() -> None:
    assert counter_rate(previous=42.0, current=42.0, elapsed_s=15.0) == 0.0


@pytest.mark.parametrize("elapsed_s", [0.0, -1.0, math.nan])
def test_counter_rate_refuses_non_positive_elapsed(elapsed_s: float) -> None:
    with pytest.raises(ValidationError) as caught:
        counter_rate(1.0, 2.0, elapsed_s)
    assert caught.value.field == "elapsed_s"


def test_counter_tracker_sequence_with_reset() -> None:
    tracker = CounterTracker()
    readings = [(0, 100.0), (10, 150.0), (20, 10.0), (40, 50.0)]
    rates = [
        None if delta is None else delta.rate_per_s
        for delta in (
            tracker.observe("requests", value, START + timedelta(seconds=offset))
            for offset, value in readings
        )
    ]
    # first: no baseline; 50/10; reset -> 10/10; 40/20
    assert rates == [None, pytest.approx(5.0), pytest.approx(1.0), pytest.approx(2.0)]


def test_counter_tracker_keeps_baseline_when_time_does_not_advance() -> None:
    tracker = CounterTracker()
    tracker.observe("jobs", 10.0, START)
    assert tracker.observe("jobs", 20.0, START) is None
    delta = tracker.observe("jobs", 40.0, START + timedelta(seconds=10))
    assert delta is not None
    assert delta.increase == 30.0  # measured from the kept baseline of 10


def test_counter_tracker_series_are_independent() -> None:
    tracker = CounterTracker()
    tracker.observe("a", 0.0, START)
    tracker.observe("b", 100.0, START)
    later = START + timedelta(seconds=4)
    a_delta = tracker.observe("a", 8.0, later)
    b_delta = tracker.observe("b", 104.0, later)
    assert a_delta is not None and b_delta is not None
    assert (a_delta.rate_per_s, b_delta.rate_per_s) == (2.0, 1.0)
    assert len(tracker) == 2


def test_hit_ratio() -> None:
    assert hit_ratio(3.0, 1.0) == 0.75
    assert hit_ratio(0.0, 5.0) == 0.0
    assert hit_ratio(0.0, 0.0) is None


# -- histogram quantiles ----------------------------------------------------------------------

# 100 observations: 20 in (0, 0.05], 50 in (0.05, 0.1], 20 in (0.1, 0.25], 8 in (0.25, 0.5],
# 2 above 0.5.
LATENCY = buckets_of((0.05, 20.0), (0.1, 70.0), (0.25, 90.0), (0.5, 98.0), (INF, 100.0))


@pytest.mark.parametrize(
    ("quantile", "expected"),
    [
        (0.1, 0.025),  # rank 10 in first bucket: 0 + 0.05 * 10/20
        (0.5, 0.08),  # rank 50: 0.05 + 0.05 * (50-20)/50
        (0.7, 0.1),  # rank 70 exactly at the bucket's top
        (0.8, 0.175),  # rank 80: 0.1 + 0.15 * (80-70)/20
        (0.95, 0.40625),  # rank 95: 0.25 + 0.25 * (95-90)/8
        (0.99, 0.5),  # rank 99 falls in +Inf: highest finite bound
        (1.0, 0.5),
        (0.0, 0.0),
    ],
)
def test_histogram_quantile_hand_computed(quantile: float, expected: float) -> None:
    value = histogram_quantile(quantile, LATENCY)
    assert value == pytest.approx(expected)


def test_histogram_quantile_ignores_bucket_order_and_repairs_non_monotonic_counts() -> None:
    shuffled = [LATENCY[3], LATENCY[0], LATENCY[4], LATENCY[2], LATENCY[1]]
    assert histogram_quantile(0.5, shuffled) == pytest.approx(0.08)
    # A non-atomic scrape: a higher bucket read lower than the one before it.
    torn = buckets_of((1.0, 10.0), (2.0, 8.0), (INF, 10.0))
    assert sorted_buckets(torn)[1].count == 10.0
    assert histogram_quantile(0.5, torn) == pytest.approx(0.5)


def test_histogram_quantile_negative_first_bound_is_returned_as_is() -> None:
    buckets = buckets_of((-1.0, 5.0), (1.0, 10.0), (INF, 10.0))
    assert histogram_quantile(0.2, buckets) == -1.0


def test_histogram_quantile_undefined_cases() -> None:
    assert histogram_quantile(0.5, buckets_of((1.0, 0.0), (INF, 0.0))) is None
    assert histogram_quantile(0.5, buckets_of((INF, 7.0))) is None
    with pytest.raises(ValidationError) as no_inf:
        histogram_quantile(0.5, buckets_of((1.0, 3.0), (2.0, 4.0)))
    assert no_inf.value.field == "buckets"
    with pytest.raises(ValidationError) as bad_quantile:
        histogram_quantile(1.5, LATENCY)
    assert bad_quantile.value.field == "quantile"


@given(
    increments=st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=8),
    low=st.floats(min_value=0.0, max_value=1.0),
    high=st.floats(min_value=0.0, max_value=1.0),
)
def test_histogram_quantile_is_monotonic_and_within_bounds(
    increments: list[int], low: float, high: float
) -> None:
    bounds = [0.01 * 2**index for index in range(len(increments) - 1)] + [INF]
    counts = [float(sum(increments[: index + 1])) for index in range(len(increments))]
    buckets = [Bucket(bound, count) for bound, count in zip(bounds, counts, strict=True)]
    first, second = sorted((low, high))
    lower_value = histogram_quantile(first, buckets)
    upper_value = histogram_quantile(second, buckets)
    if counts[-1] == 0:
        assert lower_value is None and upper_value is None
        return
    assert lower_value is not None and upper_value is not None
    assert 0.0 <= lower_value <= upper_value + 1e-12
    assert upper_value <= bounds[-2]


def test_bucket_increase_subtracts_per_bucket() -> None:
    before = buckets_of((0.1, 10.0), (0.5, 15.0), (INF, 16.0))
    after = buckets_of((0.1, 12.0), (0.5, 25.0), (INF, 30.0))
    assert bucket_increase(before, after) == buckets_of((0.1, 2.0), (0.5, 10.0), (INF, 14.0))


def test_bucket_increase_after_reset_or_layout_change_is_current() -> None:
    before = buckets_of((0.1, 10.0), (INF, 16.0))
    restarted = buckets_of((0.1, 1.0), (INF, 2.0))
    assert bucket_increase(before, restarted) == restarted
    relaid = buckets_of((0.2, 12.0), (INF, 20.0))
    assert bucket_increase(before, relaid) == relaid


def test_quantile_of_increase_describes_only_the_last_interval() -> None:
    # Until now everything was fast (<= 0.1 s); in the last interval 10 requests took 0.5-1 s.
    tracker = HistogramTracker()
    tracker.observe(
        "latency", buckets_of((0.1, 1000.0), (0.5, 1000.0), (1.0, 1000.0), (INF, 1000.0)), START
    )
    window = tracker.observe(
        "latency",
        buckets_of((0.1, 1000.0), (0.5, 1000.0), (1.0, 1010.0), (INF, 1010.0)),
        START + timedelta(seconds=60),
    )
    assert histogram_quantile(0.5, window) == pytest.approx(0.75)  # 0.5 + 0.5 * 5/10
    cumulative = buckets_of((0.1, 1000.0), (0.5, 1000.0), (1.0, 1010.0), (INF, 1010.0))
    assert histogram_quantile(0.5, cumulative) == pytest.approx(0.0505)  # 0.1 * 505/1000


def test_frequent_scrapes_read_quantiles_over_the_window() -> None:
    """Scraped every 5 s, a quiet endpoint's p99 is read over the last minute, not over the
    last scrape's two requests; a counter reset starts the window again."""
    tracker = HistogramTracker(window_s=60.0, min_count=100.0)
    fast, slow = 0.0, 0.0
    windows = []
    for step in range(25):
        fast += 2.0
        slow += 1.0 if step == 20 else 0.0
        buckets = buckets_of((0.25, fast), (0.5, fast + slow), (INF, fast + slow))
        windows.append(tracker.observe("latency", buckets, START + timedelta(seconds=5 * step)))
    assert windows[0] == []
    assert sum(bucket.count for bucket in windows[-1][-1:]) == pytest.approx(25.0)  # 12 scrapes
    assert histogram_quantile(0.5, windows[20]) < 0.25  # one slow request in 25 is not a p50
    restarted = tracker.observe("latency", buckets_of((0.25, 1.0), (INF, 1.0)), START)
    assert restarted == buckets_of((0.25, 1.0), (INF, 1.0))


def test_a_busy_series_is_read_over_the_last_scrape_only() -> None:
    tracker = HistogramTracker(window_s=60.0, min_count=100.0)
    tracker.observe("latency", buckets_of((0.25, 1000.0), (INF, 1000.0)), START)
    later = START + timedelta(seconds=5)
    tracker.observe("latency", buckets_of((0.25, 1500.0), (INF, 1500.0)), later)
    slow = tracker.observe(
        "latency", buckets_of((0.25, 1500.0), (INF, 1700.0)), later + timedelta(seconds=5)
    )
    assert slow == buckets_of((0.25, 0.0), (INF, 200.0))  # all 200 of the last scrape slow


def test_parse_bucket_bound() -> None:
    assert parse_bucket_bound("+Inf") == INF
    assert parse_bucket_bound("1e-3") == 0.001
    with pytest.raises(ValidationError) as caught:
        parse_bucket_bound("fast")
    assert caught.value.field == "le"


@given(
    readings=st.lists(
        st.tuples(
            st.floats(min_value=0.001, max_value=3600.0),
            st.floats(min_value=0.0, max_value=1e12, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_counter_rates_are_never_negative(readings: list[tuple[float, float]]) -> None:
    tracker = CounterTracker()
    moment = START
    for step_s, value in readings:
        moment += timedelta(seconds=step_s)
        delta = tracker.observe("series", value, moment)
        if delta is not None:
            assert delta.rate_per_s >= 0.0
            assert delta.increase <= value
