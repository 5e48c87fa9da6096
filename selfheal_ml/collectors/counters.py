"""Memory of the previous reading, so cumulative counters become per-interval figures.

A collector sees cumulative values (``xact_commit``, ``keyspace_hits``, ``_bucket`` counts);
the rate over the last interval needs the previous value and its time, per series. These two
small trackers keep that state and nothing else (no I/O), using the reset-aware arithmetic of
:mod:`selfheal_ml.collectors.prometheus_math`.

>>> from datetime import datetime, timedelta, UTC
>>> tracker = CounterTracker()
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> tracker.observe("requests", 100.0, start) is None  # first sight: nothing to compare
True
>>> tracker.observe("requests", 130.0, start + timedelta(seconds=10)).rate_per_s
3.0
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from selfheal_ml.collectors.prometheus_math import (
    Bucket,
    counter_increase,
    sorted_buckets,
)


@dataclass(frozen=True)
class CounterDelta:
    """Growth of one counter between two readings."""

    increase: float
    elapsed_s: float

    @property
    def rate_per_s(self) -> float:
        """Increase per second."""
        return self.increase / self.elapsed_s


class CounterTracker:
    """Remembers the last value and time of each counter series.

    ``observe`` returns the reset-aware :class:`CounterDelta` since the previous reading, or
    ``None`` on the first reading of a series or when time did not move forward (the stored
    reading is then kept, so a repeated tick does not lose the baseline).

    >>> from datetime import datetime, timedelta, UTC
    >>> tracker = CounterTracker()
    >>> start = datetime(2026, 1, 1, tzinfo=UTC)
    >>> _ = tracker.observe("hits", 500.0, start)
    >>> delta = tracker.observe("hits", 20.0, start + timedelta(seconds=5))  # restarted
    >>> delta.increase, delta.rate_per_s
    (20.0, 4.0)
    """

    def __init__(self) -> None:
        self._previous: dict[str, tuple[float, datetime]] = {}

    def observe(self, series: str, value: float, now: datetime) -> CounterDelta | None:
        """Record ``value`` at ``now``; the delta since the previous reading, if any."""
        previous = self._previous.get(series)
        if previous is not None and now <= previous[1]:
            return None
        self._previous[series] = (value, now)
        if previous is None:
            return None
        previous_value, previous_time = previous
        elapsed_s = (now - previous_time).total_seconds()
        return CounterDelta(counter_increase(previous_value, value), elapsed_s)

    def keep_only(self, series: Collection[str]) -> None:
        """Forget every series not in ``series`` (it vanished; a return starts afresh)."""
        self._previous = {key: value for key, value in self._previous.items() if key in series}

    def __len__(self) -> int:
        return len(self._previous)


def _continues(old: Sequence[Bucket], new: Sequence[Bucket]) -> bool:
    """Whether ``new`` counts on from ``old`` (both as :func:`sorted_buckets` returns them):
    same layout, no bucket lower."""
    if len(old) != len(new):
        return False
    return all(
        after.upper_bound == before.upper_bound and after.count >= before.count
        for before, after in zip(old, new, strict=True)
    )


class HistogramTracker:
    """Remembers recent cumulative buckets of each histogram series.

    ``observe`` returns the bucket increase since the previous reading when it holds at least
    ``min_count`` observations, else over as many recent readings as it takes to reach them,
    at most ``window_s`` seconds back (as PromQL's ``histogram_quantile(q, rate(x[20s]))``
    would read a quiet series). A busy endpoint's quantiles thus follow every scrape, and a
    quiet one's do not rest on a handful of requests: scraped every 5 s, a p99 of the two
    requests of one scrape jumps a whole bucket whenever one of them is slow (seen live as
    false anomalies). Nothing on the first reading of a series, whose cumulative buckets hold
    the whole history of the process before the monitor started (quantiles from them would
    describe the past, and a slow spell hours ago would raise an alert at every start); the
    buckets since the restart after a reset or a layout change. The window is short (20 s:
    four 5 s scrapes; one at the benchmark's 60 s) because a repair is verified by its
    alerts clearing, and a long window keeps a fixed fault's slow requests in the quantiles.

    >>> import math
    >>> from datetime import UTC, datetime, timedelta
    >>> start = datetime(2026, 1, 1, tzinfo=UTC)
    >>> tracker = HistogramTracker(window_s=10.0, min_count=3)
    >>> tracker.observe("latency", [Bucket(1.0, 3.0), Bucket(math.inf, 4.0)], start)
    []
    >>> later = start + timedelta(seconds=5)
    >>> tracker.observe("latency", [Bucket(1.0, 3.0), Bucket(math.inf, 6.0)], later)
    [Bucket(upper_bound=1.0, count=0.0), Bucket(upper_bound=inf, count=2.0)]
    >>> later = start + timedelta(seconds=10)  # 2 new ones: reach back to the first reading
    >>> tracker.observe("latency", [Bucket(1.0, 5.0), Bucket(math.inf, 8.0)], later)
    [Bucket(upper_bound=1.0, count=2.0), Bucket(upper_bound=inf, count=4.0)]
    """

    def __init__(self, window_s: float = 20.0, min_count: float = 100.0) -> None:
        self.window_s = window_s
        self.min_count = min_count
        self._readings: dict[str, deque[tuple[datetime, list[Bucket]]]] = {}

    def observe(self, series: str, buckets: Sequence[Bucket], now: datetime) -> list[Bucket]:
        """Record ``buckets`` read at ``now``; the per-bucket increase (see the class doc)."""
        current = sorted_buckets(buckets)
        readings = self._readings.get(series)
        if readings is None:
            self._readings[series] = deque([(now, current)])
            return []
        if not _continues(readings[-1][1], current):
            readings.clear()  # a reset or a new layout: the window starts again
            readings.append((now, current))
            return current
        horizon = now.timestamp() - self.window_s
        while len(readings) > 1 and readings[1][0].timestamp() <= horizon:
            readings.popleft()
        total = current[-1].count
        base = readings[0][1]
        for _, earlier in reversed(readings):
            if total - earlier[-1].count >= self.min_count:
                base = earlier
                break
        readings.append((now, current))
        # every reading in the window counts on from the one before (a break clears it), so
        # ``current`` counts on from ``base``: bucket_increase's checks would always pass
        return [
            Bucket(after.upper_bound, after.count - before.count)
            for before, after in zip(base, current, strict=True)
        ]

    def keep_only(self, series: Collection[str]) -> None:
        """Forget every series not in ``series``."""
        self._readings = {key: value for key, value in self._readings.items() if key in series}

    def __len__(self) -> int:
        return len(self._readings)
