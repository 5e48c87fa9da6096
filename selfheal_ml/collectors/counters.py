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

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from selfheal_ml.collectors.prometheus_math import Bucket, bucket_increase, counter_increase


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


class HistogramTracker:
    """Remembers the last cumulative buckets of each histogram series.

    ``observe`` returns the bucket increase since the previous reading; nothing on the first
    reading of a series, whose cumulative buckets hold the whole history of the process
    before the monitor started (quantiles from them would describe the past, and a slow
    spell hours ago would raise an alert at every start); the buckets since the restart
    after a reset or a layout change.

    >>> import math
    >>> tracker = HistogramTracker()
    >>> tracker.observe("latency", [Bucket(1.0, 3.0), Bucket(math.inf, 4.0)])
    []
    >>> tracker.observe("latency", [Bucket(1.0, 3.0), Bucket(math.inf, 6.0)])
    [Bucket(upper_bound=1.0, count=0.0), Bucket(upper_bound=inf, count=2.0)]
    """

    def __init__(self) -> None:
        self._previous: dict[str, list[Bucket]] = {}

    def observe(self, series: str, buckets: Sequence[Bucket]) -> list[Bucket]:
        """Record ``buckets``; the per-bucket increase since the previous reading."""
        previous = self._previous.get(series)
        current = list(buckets)
        self._previous[series] = current
        if previous is None:
            return []
        return bucket_increase(previous, current)

    def keep_only(self, series: Collection[str]) -> None:
        """Forget every series not in ``series``."""
        self._previous = {key: value for key, value in self._previous.items() if key in series}

    def __len__(self) -> int:
        return len(self._previous)
