"""Seasonal residual: distance from the usual value at this time of day (or week).

The period (a day by default) is cut into ``buckets``; each bucket keeps an exponentially
weighted mean and mean absolute deviation of the values that fell in it. The raw score is the
residual against the bucket's mean in units of its deviation, so a busy hour at 9 am is normal
while the same load at 3 am is not. Needs the point's time (``x[TIME_KEY]``, epoch seconds).

The profile forgets per *period*, not per point (``decay="visit"``, the default): ``smoothing``
is the weight of one whole visit of a bucket (one bucket length of data), and a point that
follows the previous one by ``dt_s`` is learned with rate ``1 - (1 - smoothing) ** (dt_s /
bucket_s)`` (``dt_s`` capped at ``bucket_s``). So a bucket remembers the same number of days
whether the series is sampled every 30 s or every 5 min, and its deviation measures day-to-day
variation instead of the last minutes of noise. ``decay="point"`` is the former per-point rate.

A bucket scores only once it has seen ``min_visits`` earlier periods (distinct days for a daily
profile): with a single visit learned, its deviation only knows within-visit noise, and the next
day's ordinary drift would look anomalous. The detector reports itself warmed up only after
``min_visits`` whole periods, so a calibrator does not learn the zeros of the silent buckets.

With ``clip`` set, a bucket that scores learns robustly (Huber's idea as in Gelper, Fried &
Croux, "Robust forecasting with exponential and Holt-Winters smoothing", J. Forecasting 2010):
a residual beyond ``clip`` deviations is learned as if it were ``clip`` deviations, in the mean
and in the deviation, so an outage at 23:30 is not learned as what 23:30 looks like. A lasting
change of level is still learned: each clipped point widens the deviation, so the bound grows
until the bucket follows (a few visits). The default (``None``) learns every residual in full:
at 4 deviations the default ensemble lost 1.2 points of NAB reward_low_FP on the local files
(2.4 held out; ``models/anomaly-detector.md``), and the outage's aftermath is handled by the
profiles' calibrators instead (``EnsembleSettings.profile_min_std``).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector
from selfheal_ml.anomaly.exponential_filter import exponential_filter

SCALE_RATE = 0.01  # EWMA rate of the series-wide residual scale (the deviation floor)
_INF = math.inf


def visit_rate(smoothing: float, dt_s: float, bucket_s: float) -> float:
    """Per-point EWMA rate that gives one full bucket visit the weight ``smoothing``.

    >>> round(visit_rate(0.25, 900.0, 1800.0), 4), visit_rate(0.25, 7200.0, 1800.0)
    (0.134, 0.25)
    """
    share = min(max(dt_s, 0.0), bucket_s) / bucket_s
    return float(1.0 - (1.0 - smoothing) ** share)


class SeasonalResidual(Detector):
    """``|x - profile[bucket]| / deviation[bucket]`` with EWMA bucket statistics.

    >>> detector = SeasonalResidual(period_s=4.0, buckets=4, min_count=2)
    >>> for t in range(40):
    ...     detector.learn_one({"value": float(t % 4), "timestamp_s": float(t)})
    >>> detector.score_one({"value": 2.0, "timestamp_s": 42.0})
    0.0
    >>> detector.score_one({"value": 0.0, "timestamp_s": 42.0}) > 10
    True
    """

    clip: float | None = None  # snapshots written before ``clip`` existed load with the default

    def __init__(
        self,
        period_s: float = 86_400.0,
        buckets: int = 48,
        smoothing: float = 0.1,
        min_count: int = 3,
        width: float = 3.0,
        feature: str = VALUE_KEY,
        decay: Literal["visit", "point"] = "visit",
        min_visits: int = 0,
        clip: float | None = None,
    ) -> None:
        if clip is not None and not clip > 0.0:
            raise ValueError(f"clip: expected a positive number of deviations or None, got {clip}")
        self.clip = clip
        self.period_s = period_s
        self.buckets = buckets
        self.smoothing = smoothing
        self.min_count = min_count
        self.width = width
        self.feature = feature
        self.decay = decay
        self.min_visits = min_visits
        # compact arrays (8 bytes a bucket, not a pointer plus a boxed number): same values
        self._means = array("d", bytes(8 * buckets))
        self._deviations = array("d", bytes(8 * buckets))
        self._counts = array("q", bytes(8 * buckets))
        self._scale = 0.0
        self._last_bucket: int | None = None
        self._first_learned_s: float | None = None
        self._last_learned_s: float | None = None
        self._rate_cache = (-1.0, 0.0)  # (dt_s, rate) of the last learned point
        self._visits = array("q", bytes(8 * buckets))  # distinct periods learned per bucket
        self._visit_periods = array("q", [-1]) * buckets  # each bucket's last learned period
        self._bucket_cache = (float("nan"), 0, 0)  # (ts_s, bucket, period) of the last point

    def _bucket(self, ts_s: float) -> int:
        return int((ts_s % self.period_s) / self.period_s * self.buckets) % self.buckets

    def _floor(self, mean: float) -> float:
        return max(1e-3 * abs(mean), 1e-9, 0.05 * self._scale)

    def _rate(self, ts_s: float) -> float:
        """The settled per-point learning rate of a point at ``ts_s``."""
        if self.decay == "point":
            return self.smoothing
        bucket_s = self.period_s / self.buckets
        previous = self._last_learned_s
        dt_s = bucket_s if previous is None else ts_s - previous
        if dt_s != self._rate_cache[0]:  # regular sampling: the same rate point after point
            self._rate_cache = (dt_s, visit_rate(self.smoothing, dt_s, bucket_s))
        return self._rate_cache[1]

    def _bucket_of(self, ts_s: float) -> tuple[float, int, int]:
        """(ts_s, :meth:`_bucket`, period index) of ``ts_s``, remembered for the last time
        asked: scoring and then learning one point computes them once."""
        cached = self._bucket_cache
        if cached[0] == ts_s:
            return cached
        period_s = self.period_s
        bucket = int((ts_s % period_s) / period_s * self.buckets) % self.buckets
        cached = self._bucket_cache = (ts_s, bucket, int(ts_s // period_s))
        return cached

    def reads_value_and_time_only(self) -> bool:
        return self.feature == VALUE_KEY

    def score_one(self, x: Mapping[str, float]) -> float:
        value = x.get(self.feature)
        ts_s = x.get(TIME_KEY)
        if value is None or value - value != 0.0 or ts_s is None or ts_s - ts_s != 0.0:
            return 0.0
        return self.score_value(float(value), float(ts_s))

    def score_value(self, value: float, ts_s: float) -> float:
        # the hot path of the Predictive agent: _bucket_of and _visited inlined
        cached = self._bucket_cache  # _bucket_of, inlined
        if cached[0] == ts_s:
            bucket, period = cached[1], cached[2]
        else:
            period_s = self.period_s
            bucket = int((ts_s % period_s) / period_s * self.buckets) % self.buckets
            period = int(ts_s // period_s)
            self._bucket_cache = (ts_s, bucket, period)
        self._last_bucket = bucket
        if self._counts[bucket] < self.min_count:
            return 0.0
        earlier = self._visits[bucket]
        if self._visit_periods[bucket] == period:
            earlier -= 1
        if earlier < self.min_visits:
            return 0.0
        mean = self._means[bucket]
        deviation = self._deviations[bucket]
        # _floor, inlined, and its max() of three as comparisons (the same largest value)
        floor = 1e-3 * abs(mean)
        if floor < 1e-9:
            floor = 1e-9
        scale_floor = 0.05 * self._scale
        if scale_floor > floor:
            floor = scale_floor
        score = abs(value - mean) / (floor if floor > deviation else deviation)
        return score if 0.0 < score < _INF else 0.0  # finite_or_zero, inlined

    def _visited(self, bucket: int, ts_s: float) -> bool:
        """Whether ``bucket`` has learned ``min_visits`` periods before the one of ``ts_s``."""
        earlier = self._visits[bucket]
        if self._visit_periods[bucket] == int(ts_s // self.period_s):
            earlier -= 1
        return earlier >= self.min_visits

    def learn_one(self, x: Mapping[str, float]) -> None:
        value = x.get(self.feature)
        ts_s = x.get(TIME_KEY)
        if value is None or value - value != 0.0 or ts_s is None or ts_s - ts_s != 0.0:
            return
        self.learn_value(float(value), float(ts_s))

    def learn_value(self, value: float, ts_s: float) -> None:
        cached = self._bucket_cache  # _bucket_of, inlined: scoring the point filled the cache
        _, bucket, period = cached if cached[0] == ts_s else self._bucket_of(ts_s)
        count = self._counts[bucket]
        previous = self._last_learned_s
        rate_cache = self._rate_cache  # _rate's cache hit, inlined (regular sampling)
        if self.decay == "visit" and previous is not None and ts_s - previous == rate_cache[0]:
            settled = rate_cache[1]
        else:
            settled = self._rate(ts_s)
        running = 1.0 / (count + 1)
        rate = running if running > settled else settled  # max(settled, running), no call
        means = self._means
        mean = means[bucket]
        residual = value - mean
        size = abs(residual)
        learned, learned_size = residual, size
        if self.clip is not None and count >= self.min_count:
            earlier = self._visits[bucket] - (self._visit_periods[bucket] == period)
            if earlier >= self.min_visits:
                bound = self.clip * max(self._deviations[bucket], self._floor(mean))
                if size > bound:
                    learned, learned_size = math.copysign(bound, residual), bound
        means[bucket] = mean + rate * learned
        if count:
            deviations = self._deviations
            deviation = deviations[bucket]
            deviations[bucket] = deviation + rate * (learned_size - deviation)
        self._counts[bucket] = count + 1
        self._scale += SCALE_RATE * (size - self._scale)
        if previous is None and self._first_learned_s is None:
            self._first_learned_s = ts_s
        self._last_learned_s = ts_s
        visit_periods = self._visit_periods
        if period != visit_periods[bucket]:
            self._visits[bucket] += 1
            visit_periods[bucket] = period

    def score_learn_many(
        self, values: Sequence[float], timestamps_s: Sequence[float]
    ) -> list[float]:
        """``score_value`` then ``learn_value`` per point, the state in locals (same values)."""
        means, deviations, counts = self._means, self._deviations, self._counts
        visits, visit_periods = self._visits, self._visit_periods
        period_s, buckets, min_count, min_visits = (
            self.period_s,
            self.buckets,
            self.min_count,
            self.min_visits,
        )
        visit_decay, scale, inf, clip = self.decay == "visit", self._scale, math.inf, self.clip
        first_learned, last_learned = self._first_learned_s, self._last_learned_s
        rate_cache = self._rate_cache
        scores = []
        for value, ts_s in zip(values, timestamps_s, strict=True):
            bucket = int((ts_s % period_s) / period_s * buckets) % buckets
            period = int(ts_s // period_s)
            count = counts[bucket]
            mean = means[bucket]
            earlier = visits[bucket] - (visit_periods[bucket] == period)
            bound = inf
            if count < min_count or earlier < min_visits:
                scores.append(0.0)
            else:
                deviation = deviations[bucket]
                floor = max(1e-3 * abs(mean), 1e-9, 0.05 * scale)
                spread = floor if floor > deviation else deviation
                score = abs(value - mean) / spread
                scores.append(score if 0.0 < score < inf else 0.0)
                if clip is not None:
                    bound = clip * spread
            if visit_decay and last_learned is not None and ts_s - last_learned == rate_cache[0]:
                settled = rate_cache[1]
            else:  # _rate reads the last learned time and refreshes its cache
                self._last_learned_s = last_learned
                settled = self._rate(ts_s)
                rate_cache = self._rate_cache
            running = 1.0 / (count + 1)
            rate = running if running > settled else settled
            residual = value - mean
            size = abs(residual)
            learned, learned_size = residual, size
            if size > bound:
                learned, learned_size = math.copysign(bound, residual), bound
            means[bucket] = mean + rate * learned
            if count:
                deviation = deviations[bucket]
                deviations[bucket] = deviation + rate * (learned_size - deviation)
            counts[bucket] = count + 1
            scale += SCALE_RATE * (size - scale)
            if first_learned is None:
                first_learned = ts_s
            last_learned = ts_s
            if period != visit_periods[bucket]:
                visits[bucket] += 1
                visit_periods[bucket] = period
        if scores:  # what scoring the last point left behind
            self._last_bucket = bucket
            self._bucket_cache = (ts_s, bucket, period)
        self._scale, self._first_learned_s, self._last_learned_s = (
            scale,
            first_learned,
            last_learned,
        )
        return scores

    def _rates(self, timestamps_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The settled per-point rates of a batch (what :meth:`_rate` gives point by point)."""
        if self.decay == "point":
            return np.full(timestamps_s.size, self.smoothing)
        bucket_s = self.period_s / self.buckets
        previous = bucket_s if self._last_learned_s is None else self._last_learned_s
        dts_s = np.diff(timestamps_s, prepend=previous)
        if self._last_learned_s is None and dts_s.size:
            dts_s[0] = bucket_s
        shares = np.clip(dts_s, 0.0, bucket_s) / bucket_s
        if shares.size and shares.min() == shares.max():  # regular sampling: one rate
            return np.full(shares.size, visit_rate(self.smoothing, dts_s[0], bucket_s))
        return np.asarray(1.0 - (1.0 - self.smoothing) ** shares, dtype=np.float64)

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Exact and vectorised: per bucket, the EWMA recursions run over whole arrays
        (:func:`~.exponential_filter.exponential_filter`) over each run of equal rates once
        warm-up is over (until ``1 / (count + 1)`` is below every rate of the bucket, points
        are learned one by one)."""
        if self.feature != VALUE_KEY or not 0.0 < self.smoothing < 1.0:
            super().learn_many(values, timestamps_s)
            return
        if self.clip is not None:  # a clipped update is not a linear filter: point by point
            for value, ts_s in zip(values.tolist(), timestamps_s.tolist(), strict=True):
                if value - value == 0.0 and ts_s - ts_s == 0.0:
                    self.learn_value(value, ts_s)
            return
        rates = self._rates(timestamps_s)
        buckets = ((timestamps_s % self.period_s) / self.period_s * self.buckets).astype(np.int64)
        buckets %= self.buckets
        order = np.argsort(buckets, kind="stable")
        starts = np.flatnonzero(np.diff(buckets[order])) + 1
        residuals = np.empty(values.size)
        for positions in np.split(order, starts):
            if positions.size:
                bucket = int(buckets[positions[0]])
                residuals[positions] = self._learn_bucket(
                    bucket, values[positions], rates[positions]
                )
        periods = (timestamps_s // self.period_s).astype(np.int64)
        self._count_visits(buckets[order], periods[order], starts)
        if values.size:
            self._scale = float(exponential_filter(np.abs(residuals), SCALE_RATE, self._scale)[-1])
            if self._first_learned_s is None:
                self._first_learned_s = float(timestamps_s[0])
            self._last_learned_s = float(timestamps_s[-1])

    def _learn_bucket(
        self, bucket: int, values: npt.NDArray[np.float64], rates: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Learn one bucket's values in order; returns each value's residual before learning."""
        mean, deviation, count = self._means[bucket], self._deviations[bucket], self._counts[bucket]
        residuals = np.empty(values.size)
        index, mean, deviation = self._running_means(
            values, rates, count, mean, deviation, residuals
        )
        count += index
        settled = float(rates.min()) if rates.size else 0.0
        while index < values.size and (count == 0 or 1.0 / (count + 1) > settled):
            step = max(float(rates[index]), 1.0 / (count + 1))
            residual = float(values[index]) - mean
            mean += step * residual
            if count:
                deviation += step * (abs(residual) - deviation)
            residuals[index], count, index = residual, count + 1, index + 1
        uniform = settled == rates.max()
        changes = [] if uniform else (np.flatnonzero(np.diff(rates[index:])) + index + 1).tolist()
        for begin, end in zip([index, *changes], [*changes, values.size], strict=True):
            if begin < end:
                mean, deviation = self._filter_run(
                    values[begin:end], float(rates[begin]), mean, deviation, residuals[begin:end]
                )
        self._means[bucket], self._deviations[bucket] = mean, deviation
        self._counts[bucket] = count + values.size - index
        return residuals

    @staticmethod
    def _running_means(
        values: npt.NDArray[np.float64],
        rates: npt.NDArray[np.float64],
        count: int,
        mean: float,
        deviation: float,
        residuals: npt.NDArray[np.float64],
    ) -> tuple[int, float, float]:
        """The leading points learned at rate ``1 / (count + 1)`` (warm-up: plain running means
        of the values and absolute residuals), vectorised; returns (points, mean, deviation)."""
        if not values.size or (count > 0 and rates[0] > 1.0 / (count + 1)):
            return 0, mean, deviation
        before = count + np.arange(values.size)
        slow = (before > 0) & (rates > 1.0 / (before + 1))
        size = int(np.argmax(slow)) if slow.any() else values.size
        if size == 0:
            return 0, mean, deviation
        head, after = values[:size], before[:size] + 1.0
        means = (count * mean + np.cumsum(head)) / after
        residuals[:size] = head - np.concatenate([[mean], means[:-1]])
        spread = np.abs(residuals[:size]) * (before[:size] > 0)
        deviations = (count * deviation + np.cumsum(spread)) / after
        return size, float(means[-1]), float(deviations[-1])

    def _count_visits(
        self,
        buckets: npt.NDArray[np.int64],
        periods: npt.NDArray[np.int64],
        starts: npt.NDArray[np.intp],
    ) -> None:
        """Count the distinct periods a batch adds to each bucket (points sorted by bucket,
        then time; ``starts`` where each bucket's points begin after the first)."""
        if not buckets.size:
            return
        firsts = np.concatenate([[0], starts])
        previous = np.concatenate([[0], periods[:-1]])
        previous[firsts] = np.asarray(self._visit_periods)[buckets[firsts]]
        added = np.bincount(buckets[periods != previous], minlength=self.buckets)
        self._visits = array("q", (np.asarray(self._visits) + added).tolist())
        lasts = np.concatenate([starts - 1, [buckets.size - 1]])
        for bucket, period in zip(buckets[lasts].tolist(), periods[lasts].tolist(), strict=True):
            self._visit_periods[bucket] = period

    @staticmethod
    def _filter_run(
        values: npt.NDArray[np.float64],
        rate: float,
        mean: float,
        deviation: float,
        residuals: npt.NDArray[np.float64],
    ) -> tuple[float, float]:
        """EWMA mean and deviation over a run with one rate; fills ``residuals`` in place."""
        means = exponential_filter(values, rate, mean)
        residuals[:] = values - np.concatenate([[mean], means[:-1]])
        deviations = exponential_filter(np.abs(residuals), rate, deviation)
        return float(means[-1]), float(deviations[-1])

    def warmed_up(self) -> bool:
        """Whether ``min_visits`` whole periods were learned (so a calibrator does not learn
        the zeros of buckets that cannot score yet)."""
        first, last = self._first_learned_s, self._last_learned_s
        if self.min_visits <= 0:
            return True
        return (
            first is not None
            and last is not None
            and last - first >= self.min_visits * self.period_s
        )

    def expected_range(self) -> tuple[float, float] | None:
        bucket = self._last_bucket
        if bucket is None or self._counts[bucket] < self.min_count:
            return None  # expected ranges do not wait for min_visits
        mean = self._means[bucket]
        spread = max(self._deviations[bucket], self._floor(mean))
        return mean - self.width * spread, mean + self.width * spread
