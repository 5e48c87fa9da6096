"""Jail windows and leaky buckets: the fail2ban and CrowdSec counting semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.security.counting import JailWindow, LeakyBucket

from .conftest import at


def test_jail_needs_maxretry_within_findtime() -> None:
    jail = JailWindow(maxretry=5, findtime_s=600)
    # four failures, then a fifth 601 s after the first: the first has left the window
    for seconds in (0, 100, 200, 300):
        assert jail.add("a", at(seconds), "x") is None
    assert jail.add("a", at(601), "x") is None
    fired = jail.add("a", at(650), "x")
    assert fired is not None
    assert fired.first_seen == at(100) and fired.event_count == 5


def test_jail_counts_repeated_lines_and_resets_after_firing() -> None:
    jail = JailWindow(maxretry=5, findtime_s=600)
    assert jail.add("a", at(0), "x") is None
    fired = jail.add("a", at(1), "repeated", occurrences=5)
    assert fired is not None and fired.event_count == 6
    assert fired.evidence == ("x", "repeated")
    assert jail.add("a", at(2), "x") is None  # fresh window after the overflow


def test_jail_keys_are_independent_and_pruned() -> None:
    jail = JailWindow(maxretry=2, findtime_s=60)
    assert jail.add("a", at(0), "x") is None
    assert jail.add("b", at(1), "x") is None
    assert len(jail) == 2
    jail.prune(at(120))
    assert len(jail) == 0


def test_jail_forgives_one_tag_and_keeps_the_others() -> None:
    jail = JailWindow(maxretry=3, findtime_s=600)
    assert jail.add("a", at(0), "root 1", tag="root") is None
    assert jail.add("a", at(1), "bob 1", tag="bob") is None
    assert jail.forgive("a", "bob") == 1
    assert jail.forgive("a", "bob") == 0  # nothing left of bob's
    assert jail.forgive("unseen", "bob") == 0
    assert jail.add("a", at(2), "root 2", tag="root") is None
    fired = jail.add("a", at(3), "root 3", tag="root")
    assert fired is not None and fired.event_count == 3
    assert fired.first_seen == at(0)
    assert fired.evidence == ("root 1", "root 2", "root 3")  # bob's line went with his count


def test_jail_forgiving_every_event_forgets_the_key() -> None:
    jail = JailWindow(maxretry=2, findtime_s=60)
    assert jail.add("a", at(0), "x", occurrences=1, tag="bob") is None
    assert jail.forgive("a", "bob") == 1
    assert len(jail) == 0


def test_bucket_leaks_between_events() -> None:
    bucket = LeakyBucket(capacity=3, leak_s=10)
    # one event every 10 s never fills a bucket that leaks one every 10 s
    assert all(bucket.add("k", at(10 * i), "x") is None for i in range(50))
    # four at once overflow (level 4 > capacity 3)
    results = [bucket.add("k", at(1000), "x") for _ in range(4)]
    assert results[:3] == [None, None, None] and results[3] is not None
    assert results[3].event_count == 4


def test_distinct_bucket_counts_each_value_once() -> None:
    bucket = LeakyBucket(capacity=2, leak_s=60, distinct=True)
    assert all(bucket.add("ip", at(i), "x", distinct_value="root") is None for i in range(20))
    assert bucket.add("ip", at(21), "x", distinct_value="admin") is None
    fired = bucket.add("ip", at(22), "x", distinct_value="oracle")
    assert fired is not None and fired.event_count == 3


def test_blackhole_silences_the_key_after_an_overflow() -> None:
    bucket = LeakyBucket(capacity=1, leak_s=60, blackhole_s=300)
    bucket.add("k", at(0), "x")
    assert bucket.add("k", at(1), "x") is not None
    assert all(bucket.add("k", at(2 + i), "x") is None for i in range(10))
    bucket.add("k", at(400), "x")
    assert bucket.add("k", at(401), "x") is not None


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: JailWindow(0, 10), "maxretry"),
        (lambda: JailWindow(5, 0), "findtime_s"),
        (lambda: LeakyBucket(0, 1), "capacity"),
        (lambda: LeakyBucket(1, -1), "leak_s"),
    ],
)
def test_bad_parameters_are_named(make: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make()  # type: ignore[operator]


@given(st.lists(st.floats(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_jail_never_fires_with_fewer_than_maxretry_in_any_window(offsets: list[float]) -> None:
    jail = JailWindow(maxretry=5, findtime_s=600)
    times = sorted(offsets)
    for index, seconds in enumerate(times):
        fired = jail.add("a", at(seconds), "x")
        if fired is not None:
            in_window = [t for t in times[: index + 1] if t > seconds - 600]
            assert len(in_window) >= 5


def test_a_distinct_buckets_overflow_names_its_values_in_order() -> None:
    bucket = LeakyBucket(capacity=2, leak_s=60, distinct=True)
    results = [bucket.add("admin", at(0), "x", value) for value in ("b", "a", "a", "c")]
    overflow = results[-1]
    assert overflow is not None and overflow.values == ("b", "a", "c")
