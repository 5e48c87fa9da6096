"""Fitting a forecast round's series, in this process or in a short-lived child process.

The forecasters need statsmodels and SciPy: about 80 MB of RSS that a service holds for good
from its first forecast on (Python does not unload modules), for a round that runs once an
hour. In real time the Predictive agent therefore fits a round's series in one child process
(``spawn``, lower CPU priority) that exits when the round is done: the parent reads the
histories from the store, ships them over, and gets the forecasts back (numpy arrays, no
statsmodels objects). The child's peak RSS is reported with the results, so what it costs is
seen, not hidden. In virtual time (the demo, one process by design) the fits run in-process.

>>> import pandas as pd
>>> from selfheal_ml.forecast.naive import SeasonalNaive
>>> hours = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
>>> history = pd.Series([float(hour) for hour in range(48)], index=hours)
>>> fitted = fit_series(SeasonalNaive, [("a", history)], 2, (80,))
>>> fitted.forecasts["a"].mean.tolist(), fitted.failures
([24.0, 25.0], {})
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from selfheal_ml.forecast.base import Forecast, Forecaster
from selfheal_ml.heap import peak_rss_mb

#: The child's ``nice`` increment: the API, the scoring and the other agents come first.
CHILD_NICENESS = 10


@dataclass(frozen=True)
class FittedRound:
    """The forecasts of a round, by series; the series that failed, with why; what it cost."""

    forecasts: dict[str, Forecast]
    failures: dict[str, str]
    cpu_s: float
    peak_rss_mb: float


def fit_series(
    make_forecaster: Callable[[], Forecaster],
    histories: Sequence[tuple[str, pd.Series]],
    horizon: int,
    levels: tuple[int, ...],
) -> FittedRound:
    """Fit a fresh forecaster on each history; one bad series does not stop the others."""
    started = time.process_time()
    forecasts: dict[str, Forecast] = {}
    failures: dict[str, str] = {}
    for series, history in histories:
        try:
            forecasts[series] = make_forecaster().fit(history).forecast(horizon, levels)
        except Exception as exc:  # reported to the caller, which logs it
            failures[series] = f"{type(exc).__name__}: {exc}"
    return FittedRound(forecasts, failures, time.process_time() - started, peak_rss_mb())


def _lower_priority() -> None:
    os.nice(CHILD_NICENESS)


def fit_series_in_child(
    make_forecaster: Callable[[], Forecaster],
    histories: Sequence[tuple[str, pd.Series]],
    horizon: int,
    levels: tuple[int, ...],
) -> FittedRound:
    """:func:`fit_series` in a fresh child process that exits afterwards (blocks the calling
    thread). ``make_forecaster`` must be picklable (a module-level function or class)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_lower_priority) as pool:
        return pool.submit(fit_series, make_forecaster, list(histories), horizon, levels).result()
