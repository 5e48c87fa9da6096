"""A series' healthy range at a time of day, and a verification band that knows it.

The Repair agent judges a repair by whether each watched series is back inside its trigger's
band. For an anomaly the band is the detector's expected range at detection, which can be
much narrower than the series' ordinary wander at that hour: on seed 7012 the login
endpoint's p95 latency on leadsite.ai had a band of 80-118 ms, while on a healthy night it
wanders to 130-170 ms. So ``scale_out``, which had ended a surge, was judged "did not work",
and a restart of the healthy platform followed.

:func:`healthy_range` is what the series does at this time of day: for each of the last
``days`` days, the values within ``half_window_s`` of the same clock time, their
``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles, and the median of those over
the days (a day with a fault at that hour is one outlier among several, not the range).
:func:`widen_to_healthy` widens a range trigger's band to cover it. Only a band with both
ends is widened (a predicted breach's "below this" stays as it is). Pure: the Diagnostic
agent reads the history and calls these.

The coverage was chosen on dev seeds 7012 and 7013 with ``pipelines/replay_verification.py``.
Of their 18 "did not work" verdicts, 4 came after repairs that had ended their fault. At 0.98
the widening turns 3 of those 4 into "worked" (0.9 turns 2), and none of the 14 others; no
"worked" verdict changes (a wider band can only judge sooner).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from selfheal_ml.lifecycle import Trigger

HEALTHY_DAYS = 7
HALF_WINDOW_S = 3600.0
COVERAGE = 0.98
MIN_POINTS_PER_DAY = 20
MIN_DAYS = 2


def history_span(at: datetime, days: int = HEALTHY_DAYS) -> tuple[datetime, datetime]:
    """The stretch of history :func:`healthy_range` reads for a band at ``at``."""
    half = timedelta(seconds=HALF_WINDOW_S)
    return at - timedelta(days=days) - half, at - timedelta(days=1) + half


def healthy_range(
    history: pd.Series,
    at: datetime,
    days: int = HEALTHY_DAYS,
    half_window_s: float = HALF_WINDOW_S,
    coverage: float = COVERAGE,
) -> tuple[float, float] | None:
    """The series' usual range around ``at``'s time of day (module docstring); ``None`` with
    fewer than ``MIN_DAYS`` days of at least ``MIN_POINTS_PER_DAY`` values.

    >>> index = pd.date_range("2026-01-01", periods=7 * 1440, freq="min", tz="UTC")
    >>> night = np.asarray(index.hour < 6)
    >>> rng = np.random.default_rng(0)
    >>> latency = pd.Series(np.where(night, 150.0, 100.0) + rng.normal(0, 5, index.size), index)
    >>> low, high = healthy_range(latency, datetime.fromisoformat("2026-01-08T03:00+00:00"))
    >>> 135 < low < 145 < 155 < high < 165
    True
    """
    if history.empty:
        return None
    times = pd.DatetimeIndex(history.index)
    values = history.to_numpy(np.float64)
    half = pd.Timedelta(seconds=half_window_s)
    lows, highs = [], []
    for day in range(1, days + 1):
        centre = pd.Timestamp(at) - pd.Timedelta(days=day)
        inside = (times >= centre - half) & (times <= centre + half)
        window = values[inside & np.isfinite(values)]
        if window.size >= MIN_POINTS_PER_DAY:
            low, high = np.quantile(window, [(1 - coverage) / 2, (1 + coverage) / 2])
            lows.append(float(low))
            highs.append(float(high))
    if len(highs) < MIN_DAYS:
        return None
    return float(np.median(lows)), float(np.median(highs))


def widen_to_healthy(trigger: Trigger, healthy: tuple[float, float] | None) -> Trigger:
    """``trigger`` with its band widened to cover ``healthy`` (unchanged without one, for an
    alert, or for a band open at one end).

    >>> band = Trigger(kind="range", key="latency", low=80.0, high=118.0)
    >>> widen_to_healthy(band, (90.0, 160.0)).high, widen_to_healthy(band, (90.0, 160.0)).low
    (160.0, 80.0)
    """
    if healthy is None or trigger.kind != "range" or trigger.low is None or trigger.high is None:
        return trigger
    return trigger.model_copy(
        update={"low": min(trigger.low, healthy[0]), "high": max(trigger.high, healthy[1])}
    )
