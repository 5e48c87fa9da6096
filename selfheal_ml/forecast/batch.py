"""Forecast many series at once, in worker processes: what pipelines and the agent call.

An estimator fits one series in one process; fanning out over series is the caller's job, and
it happens here with :class:`concurrent.futures.ProcessPoolExecutor` (statsmodels fits hold
the GIL, so threads would not help). Each fit runs with one BLAS thread: OpenBLAS's own
threads only spin on these small matrices (4x the CPU time on a busy machine).
:func:`iter_forecasts` yields forecasts in input order as they finish, so the caller can drive
a progress bar; :func:`stack_forecasts` turns them into ``(series, horizon)`` arrays (the M4
submission layout).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from selfheal_ml.forecast.base import DEFAULT_LEVELS, FloatArray, Forecast
from selfheal_ml.forecast.registry import make_forecaster

Task = tuple[str, FloatArray, int, tuple[int, ...]]


@dataclass(frozen=True)
class BatchForecast:
    """Forecasts of many series stacked row-wise: ``mean[series, step]`` and bounds per level."""

    mean: FloatArray
    lower: dict[int, FloatArray]
    upper: dict[int, FloatArray]
    models: tuple[str, ...]
    fallback_count: int
    cpu_s: float


def forecast_task(task: Task) -> Forecast:
    """Fit registry model ``name`` on ``values`` and forecast (a picklable unit of work)."""
    name, values, horizon, levels = task
    started = time.process_time()
    with threadpool_limits(1):
        forecast = make_forecaster(name).fit(values).forecast(horizon, levels=levels)
    cpu_s = time.process_time() - started
    return replace(forecast, details={**forecast.details, "cpu_s": cpu_s})


def iter_forecasts(
    histories: Sequence[FloatArray],
    horizon: int,
    model: str = "ensemble",
    levels: tuple[int, ...] = DEFAULT_LEVELS,
    workers: int = 1,
) -> Iterator[Forecast]:
    """Forecast every history with a fresh ``model``, yielding in input order.

    >>> histories = [np.arange(1.0, 49.0), np.arange(2.0, 50.0)]
    >>> [f.mean[0] for f in iter_forecasts(histories, 2, model="seasonal_naive")]
    [np.float64(25.0), np.float64(26.0)]
    """
    make_forecaster(model)
    tasks = [(model, np.asarray(values, dtype=np.float64), horizon, levels) for values in histories]
    if workers <= 1:
        yield from map(forecast_task, tasks)
        return
    chunk = max(1, min(8, len(tasks) // (4 * workers)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(forecast_task, tasks, chunksize=chunk)


def stack_forecasts(forecasts: Sequence[Forecast]) -> BatchForecast:
    """Stack per-series forecasts (same horizon and levels) into arrays.

    >>> histories = [np.ones(30), 2 * np.ones(30)]
    >>> batch = stack_forecasts(list(iter_forecasts(histories, 3, "seasonal_naive")))
    >>> batch.mean.shape, sorted(batch.lower), batch.fallback_count
    ((2, 3), [80, 95], 0)
    """
    levels = sorted(forecasts[0].lower)
    return BatchForecast(
        mean=np.vstack([forecast.mean for forecast in forecasts]),
        lower={
            level: np.vstack([forecast.lower[level] for forecast in forecasts]) for level in levels
        },
        upper={
            level: np.vstack([forecast.upper[level] for forecast in forecasts]) for level in levels
        },
        models=tuple(forecast.model for forecast in forecasts),
        fallback_count=sum(forecast.fallback_used for forecast in forecasts),
        cpu_s=sum(float(forecast.details.get("cpu_s", 0.0)) for forecast in forecasts),
    )
