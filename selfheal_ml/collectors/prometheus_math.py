"""Pure arithmetic of Prometheus-style monitoring: counter rates and histogram quantiles.

Collectors read cumulative counters (requests served, transactions committed, cache hits) and
cumulative histogram buckets; what the detectors need are per-second rates and latency
percentiles over the last interval. The functions here do that conversion the way Prometheus
does (``rate()`` with counter-reset handling, ``histogram_quantile()`` with linear
interpolation inside a bucket), with no I/O, so they are tested by hand-computed examples.

>>> counter_rate(previous=100.0, current=160.0, elapsed_s=30.0)
2.0
>>> latency = [Bucket(0.1, 10.0), Bucket(0.5, 30.0), Bucket(math.inf, 40.0)]
>>> round(histogram_quantile(0.5, latency), 9)
0.3
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from selfheal_ml.errors import ValidationError


@dataclass(frozen=True)
class Bucket:
    """One cumulative histogram bucket: ``count`` observations were ``<= upper_bound``."""

    upper_bound: float
    count: float


def counter_increase(previous: float, current: float) -> float:
    """How much a counter grew; a drop means the process restarted from zero.

    >>> counter_increase(10.0, 15.0)
    5.0
    >>> counter_increase(10.0, 4.0)  # reset: it restarted and counted 4 since
    4.0
    """
    if current < previous:
        return current
    return current - previous


def counter_rate(previous: float, current: float, elapsed_s: float) -> float:
    """Per-second rate of a counter between two readings ``elapsed_s`` apart, reset-aware.

    >>> counter_rate(previous=50.0, current=20.0, elapsed_s=10.0)  # reset
    2.0
    """
    if not elapsed_s > 0:
        raise ValidationError("elapsed_s", f"expected a positive duration, got {elapsed_s!r}")
    return counter_increase(previous, current) / elapsed_s


def hit_ratio(hits: float, misses: float) -> float | None:
    """Share of lookups that hit; ``None`` when there were no lookups.

    >>> hit_ratio(90.0, 10.0)
    0.9
    >>> hit_ratio(0.0, 0.0) is None
    True
    """
    total = hits + misses
    if total <= 0:
        return None
    return hits / total


def parse_bucket_bound(text: str) -> float:
    """The ``le`` label of a bucket as a number (``+Inf`` included).

    >>> parse_bucket_bound("+Inf")
    inf
    >>> parse_bucket_bound("0.25")
    0.25
    """
    try:
        return float(text)
    except ValueError as error:
        raise ValidationError("le", f"expected a number or +Inf, got {text!r}") from error


def _in_order(buckets: Sequence[Bucket]) -> bool:
    """Bounds ascending and counts non-negative and non-decreasing: nothing to repair."""
    previous_bound, previous_count = -math.inf, 0.0
    for bucket in buckets:
        if bucket.upper_bound < previous_bound or not bucket.count >= previous_count:
            return False
        previous_bound, previous_count = bucket.upper_bound, bucket.count
    return True


def sorted_buckets(buckets: Sequence[Bucket]) -> list[Bucket]:
    """Buckets by upper bound, counts forced non-decreasing (as Prometheus does).

    Scrapes are not atomic, so a bucket can momentarily read lower than the one before it.

    >>> sorted_buckets([Bucket(math.inf, 5.0), Bucket(1.0, 6.0)])
    [Bucket(upper_bound=1.0, count=6.0), Bucket(upper_bound=inf, count=6.0)]
    """
    if _in_order(buckets):
        return list(buckets)  # the usual case: a page lists its buckets in order
    ordered = sorted(buckets, key=lambda bucket: bucket.upper_bound)
    repaired: list[Bucket] = []
    running = 0.0
    for bucket in ordered:
        running = max(running, bucket.count)
        repaired.append(Bucket(bucket.upper_bound, running))
    return repaired


def bucket_increase(previous: Sequence[Bucket], current: Sequence[Bucket]) -> list[Bucket]:
    """Observations per bucket since ``previous``; the current buckets after a reset.

    A reset (any bucket lower than before) or a change of bucket layout makes the previous
    reading useless, so the cumulative current buckets are returned unchanged.

    >>> before = [Bucket(1.0, 4.0), Bucket(math.inf, 5.0)]
    >>> after = [Bucket(1.0, 10.0), Bucket(math.inf, 12.0)]
    >>> bucket_increase(before, after)
    [Bucket(upper_bound=1.0, count=6.0), Bucket(upper_bound=inf, count=7.0)]
    >>> bucket_increase(after, before) == sorted_buckets(before)
    True
    """
    old = sorted_buckets(previous)
    new = sorted_buckets(current)
    same_layout = [bucket.upper_bound for bucket in old] == [bucket.upper_bound for bucket in new]
    if not same_layout or any(
        after.count < before.count for before, after in zip(old, new, strict=True)
    ):
        return new
    return [
        Bucket(after.upper_bound, after.count - before.count)
        for before, after in zip(old, new, strict=True)
    ]


def histogram_quantile(quantile: float, buckets: Sequence[Bucket]) -> float | None:
    """The ``quantile`` of a cumulative histogram, like PromQL ``histogram_quantile``.

    The rank ``quantile * total`` is located in the first bucket whose cumulative count reaches
    it, and the value is interpolated linearly between that bucket's lower and upper bounds
    (the lowest bucket starts at 0 unless its bound is negative). A rank that falls in the
    ``+Inf`` bucket returns the highest finite bound. ``None`` when there are no observations
    or fewer than two buckets, where Prometheus would answer NaN.

    >>> bounds_and_counts = [(0.1, 50.0), (0.2, 90.0), (0.4, 100.0), (math.inf, 100.0)]
    >>> buckets = [Bucket(bound, count) for bound, count in bounds_and_counts]
    >>> histogram_quantile(0.5, buckets)
    0.1
    >>> round(histogram_quantile(0.95, buckets), 6)
    0.3
    >>> histogram_quantile(0.5, [Bucket(1.0, 0.0), Bucket(math.inf, 0.0)]) is None
    True
    """
    return histogram_quantiles((quantile,), buckets)[0]


def histogram_quantiles(
    quantiles: Sequence[float], buckets: Sequence[Bucket]
) -> list[float | None]:
    """:func:`histogram_quantile` of each of ``quantiles``, the buckets sorted once (a scrape
    reads three quantiles of every histogram).

    >>> buckets = [Bucket(0.1, 50.0), Bucket(0.2, 90.0), Bucket(math.inf, 100.0)]
    >>> histogram_quantiles((0.5, 0.99), buckets)
    [0.1, 0.2]
    """
    for quantile in quantiles:
        if not 0.0 <= quantile <= 1.0:
            raise ValidationError("quantile", f"expected a value in [0, 1], got {quantile!r}")
    ordered = sorted_buckets(buckets)
    if not ordered or not math.isinf(ordered[-1].upper_bound):
        raise ValidationError("buckets", "expected a +Inf bucket, found none")
    return [_quantile_of_sorted(quantile, ordered) for quantile in quantiles]


def _quantile_of_sorted(quantile: float, ordered: Sequence[Bucket]) -> float | None:
    total = ordered[-1].count
    if len(ordered) < 2 or total <= 0:
        return None
    rank = quantile * total
    index = next(
        (position for position, bucket in enumerate(ordered[:-1]) if bucket.count >= rank),
        len(ordered) - 1,
    )
    if index == len(ordered) - 1:
        return ordered[-2].upper_bound
    if index == 0 and ordered[0].upper_bound <= 0:
        return ordered[0].upper_bound
    bucket_start = 0.0 if index == 0 else ordered[index - 1].upper_bound
    below = 0.0 if index == 0 else ordered[index - 1].count
    in_bucket = ordered[index].count - below
    if in_bucket <= 0:
        return bucket_start
    fraction = (rank - below) / in_bucket
    return bucket_start + (ordered[index].upper_bound - bucket_start) * fraction
