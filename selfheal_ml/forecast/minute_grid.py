"""Series on a regular minute grid, for the leak watch's ramp test (:mod:`.ramp`).

Pure: points or rollup frames in, arrays out. :func:`minute_means` averages the points an agent
saw per minute, :func:`held` fills gaps with the last value, and :func:`store_minutes` puts a
store's minute rollups of a series and its platform's traffic on one grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from selfheal_ml.forecast.base import FloatArray

MINUTE_S = 60.0


def minute_means(
    points: Iterable[tuple[datetime, float]], now: datetime, minutes: int
) -> FloatArray:
    """Means of ``points`` per minute for the ``minutes`` minutes up to ``now`` (oldest first,
    NaN where a minute had none).

    >>> from datetime import UTC, timedelta
    >>> now = datetime(2026, 1, 1, 0, 3, tzinfo=UTC)
    >>> points = [(now - timedelta(seconds=s), v) for s, v in ((150, 1.0), (130, 3.0), (10, 5.0))]
    >>> minute_means(points, now, 3).tolist()
    [2.0, nan, 5.0]
    """
    sums, counts = np.zeros(minutes), np.zeros(minutes)
    for ts, value in points:
        index = minutes - 1 - int((now - ts).total_seconds() // MINUTE_S)
        if 0 <= index < minutes:
            sums[index] += value
            counts[index] += 1
    with np.errstate(invalid="ignore"):
        means: FloatArray = sums / counts
    return means


def held(values: FloatArray) -> FloatArray:
    """NaN gaps filled with the last value before them (leading NaNs stay)."""
    frame = pd.Series(values).ffill()
    return np.asarray(frame.to_numpy(np.float64))


def store_minutes(
    frames: dict[str, pd.DataFrame], series: str, traffic: list[str]
) -> tuple[FloatArray, FloatArray]:
    """``series`` on a regular minute grid (NaN where a minute is missing) and the sum of the
    ``traffic`` series on the same minutes (0 without traffic), from rollup frames."""
    memory = frames[series].set_index("ts")["value"].asfreq("1min")
    parts = [frames[name].set_index("ts")["value"] for name in traffic if name in frames]
    if not parts:
        return memory.to_numpy(np.float64), np.zeros(len(memory))
    load = pd.concat(parts, axis=1).sum(axis=1, min_count=1).reindex(memory.index)
    return memory.to_numpy(np.float64), np.asarray(load.to_numpy(np.float64), dtype=np.float64)
