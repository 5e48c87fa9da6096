"""Where the compute routes' work runs: worker processes for pure work, threads for the rest.

Scoring a batch, fitting a forecast or matching every alert against the silences takes CPU
time. Run on the event loop, one such request stalls every other (``/health`` included). Run
in a worker thread, it still holds the GIL: with two busy threads the loop waits for the GIL
at every step of a ``/health`` request (measured: p99 6x the idle figure under 8 clients).

- :meth:`ComputePool.run_isolated` runs a function of plain, picklable inputs (a batch of
  points and a copy of one series' detectors, a history to forecast) in one of ``processes``
  worker processes, started on first use with ``spawn``. The worker imports what the work
  needs (river, statsmodels), so the API process does not, and returns the encoded JSON
  body, so neither the work nor the encoding touches the API's GIL. The workers run at a
  lower CPU priority (``nice`` +10): on a busy machine the kernel runs the API process
  first, so the compute takes longer rather than ``/health``.
- :meth:`ComputePool.run` runs work that reads the process's own state (the store, the live
  detector bank) in a worker thread.

Both wait for one of ``threads`` slots first, so at most that many compute requests are in
flight and the rest wait their turn off the loop. ``processes=0`` runs the pure work in the
threads too (tests, or a machine where a second Python process costs too much memory).
"""

from __future__ import annotations

import asyncio
import functools
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread

Result = TypeVar("Result")

#: added to the worker processes' niceness: the API process wins the CPU when both can run
WORKER_NICENESS = 10


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


def encoded(content: Any) -> bytes:
    """``content`` as a JSON body, encoded as Starlette's ``JSONResponse`` encodes it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def _call_and_encode(function: Callable[..., Any], *args: Any) -> bytes:
    return encoded(function(*args))


class ComputePool:
    """At most ``threads`` compute requests at once; pure work in ``processes`` processes."""

    def __init__(self, threads: int, processes: int = 0) -> None:
        self.threads = threads
        self.processes = processes
        self._limiter: anyio.CapacityLimiter | None = None
        self._executor: ProcessPoolExecutor | None = None

    def _slots(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made on the loop that uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """``function(*args)`` in a worker thread, once one of the pool's slots is free."""
        call = functools.partial(function, *args)
        return await anyio.to_thread.run_sync(call, limiter=self._slots())

    async def run_isolated(self, function: Callable[..., Any], *args: Any) -> bytes:
        """``function(*args)`` (a module-level function of picklable arguments) in a worker
        process, its result returned as an encoded JSON body. An exception it raises is
        raised here (it must pickle: :class:`~selfheal_ml.errors.ValidationError` does)."""
        if self.processes == 0:
            return await self.run(_call_and_encode, function, *args)
        async with self._slots():
            future = self._worker_processes().submit(_call_and_encode, function, *args)
            return await asyncio.wrap_future(future)

    def _worker_processes(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: a fork would copy the API's threads, locks and DuckDB connection
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=context, initializer=_lower_priority
            )
        return self._executor

    def close(self) -> None:
        """Stop the worker processes (if any were started); queued work is cancelled."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
