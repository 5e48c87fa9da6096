"""Seasonal residual: distance from the usual value at this time of day (or week).

The period (a day by default) is cut into ``buckets``; each bucket keeps an exponentially
weighted mean and mean absolute deviation of the values that fell in it. The raw score is the
residual against the bucket's mean in units of its deviation, so a busy hour at 9 am is normal
while the same load at 3 am is not. Needs the point's time (``x[TIME_KEY]``, epoch seconds).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from selfheal_ml.anomaly.base import TIME_KEY, VALUE_KEY, Detector, finite_or_zero, read_value

SCALE_RATE = 0.01  # EWMA rate of the series-wide residual scale (the deviation floor)


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

    def __init__(
        self,
        period_s: float = 86_400.0,
        buckets: int = 48,
        smoothing: float = 0.1,
        min_count: int = 3,
        width: float = 3.0,
        feature: str = VALUE_KEY,
    ) -> None:
        self.period_s = period_s
        self.buckets = buckets
        self.smoothing = smoothing
        self.min_count = min_count
        self.width = width
        self.feature = feature
        self._means = [0.0] * buckets
        self._deviations = [0.0] * buckets
        self._counts = [0] * buckets
        self._scale = 0.0
        self._last_bucket: int | None = None

    def _bucket(self, ts_s: float) -> int:
        return int((ts_s % self.period_s) / self.period_s * self.buckets) % self.buckets

    def _floor(self, mean: float) -> float:
        return max(1e-3 * abs(mean), 1e-9, 0.05 * self._scale)

    def score_one(self, x: Mapping[str, float]) -> float:
        value, ts_s = read_value(x, self.feature), read_value(x, TIME_KEY)
        if value is None or ts_s is None:
            return 0.0
        bucket = self._bucket(ts_s)
        self._last_bucket = bucket
        if self._counts[bucket] < self.min_count:
            return 0.0
        mean = self._means[bucket]
        spread = max(self._deviations[bucket], self._floor(mean))
        return finite_or_zero(abs(value - mean) / spread)

    def learn_one(self, x: Mapping[str, float]) -> None:
        value, ts_s = read_value(x, self.feature), read_value(x, TIME_KEY)
        if value is None or ts_s is None:
            return
        bucket = self._bucket(ts_s)
        count = self._counts[bucket]
        rate = max(self.smoothing, 1.0 / (count + 1))
        residual = value - self._means[bucket]
        self._means[bucket] += rate * residual
        if count:
            self._deviations[bucket] += rate * (abs(residual) - self._deviations[bucket])
        self._counts[bucket] = count + 1
        self._scale += SCALE_RATE * (abs(residual) - self._scale)

    def learn_many(
        self, values: npt.NDArray[np.float64], timestamps_s: npt.NDArray[np.float64]
    ) -> None:
        """Exact and vectorised: per bucket, the EWMA recursions run as linear filters
        (``scipy.signal.lfilter``) once the learning rate has settled at ``smoothing``."""
        if self.feature != VALUE_KEY or not 0.0 < self.smoothing < 1.0:
            super().learn_many(values, timestamps_s)
            return
        buckets = ((timestamps_s % self.period_s) / self.period_s * self.buckets).astype(np.int64)
        buckets %= self.buckets
        order = np.argsort(buckets, kind="stable")
        starts = np.flatnonzero(np.diff(buckets[order])) + 1
        residuals = np.empty(values.size)
        for positions in np.split(order, starts):
            if positions.size:
                bucket = int(buckets[positions[0]])
                residuals[positions] = self._learn_bucket(bucket, values[positions])
        decay = 1.0 - SCALE_RATE
        if values.size:
            scales, _ = lfilter(
                [SCALE_RATE], [1.0, -decay], np.abs(residuals), zi=[decay * self._scale]
            )
            self._scale = float(scales[-1])

    def _learn_bucket(
        self, bucket: int, values: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Learn one bucket's values in order; returns each value's residual before learning."""
        rate, decay = self.smoothing, 1.0 - self.smoothing
        mean, deviation, count = self._means[bucket], self._deviations[bucket], self._counts[bucket]
        residuals = np.empty(values.size)
        index = 0
        while index < values.size and (count == 0 or 1.0 / (count + 1) > rate):
            step = max(rate, 1.0 / (count + 1))
            residual = float(values[index]) - mean
            mean += step * residual
            if count:
                deviation += step * (abs(residual) - deviation)
            residuals[index], count, index = residual, count + 1, index + 1
        if index < values.size:
            rest = values[index:]
            means, _ = lfilter([rate], [1.0, -decay], rest, zi=[decay * mean])
            residuals[index:] = rest - np.concatenate([[mean], means[:-1]])
            deviations, _ = lfilter(
                [rate], [1.0, -decay], np.abs(residuals[index:]), zi=[decay * deviation]
            )
            mean, deviation, count = float(means[-1]), float(deviations[-1]), count + rest.size
        self._means[bucket], self._deviations[bucket], self._counts[bucket] = (
            mean,
            deviation,
            count,
        )
        return residuals

    def expected_range(self) -> tuple[float, float] | None:
        bucket = self._last_bucket
        if bucket is None or self._counts[bucket] < self.min_count:
            return None
        mean = self._means[bucket]
        spread = max(self._deviations[bucket], self._floor(mean))
        return mean - self.width * spread, mean + self.width * spread
