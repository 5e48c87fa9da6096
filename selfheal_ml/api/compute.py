"""The worker threads that run the compute routes, fewer than the event loop could start.

Scoring a batch, fitting a forecast or matching every alert against the silences takes CPU
time. Run on the event loop, one such request stalls every other (``/health`` included);
run in Starlette's shared pool of 40 threads, 40 of them fight for the GIL with the loop.
The routes hand their work to :meth:`ComputePool.run`, at most ``threads`` at a time; the
rest wait their turn off the loop, which stays free to answer ``/health`` and ``/ready``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

Result = TypeVar("Result")


class ComputePool:
    """Runs blocking work in at most ``threads`` worker threads."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """``function(*args)`` in a worker thread, once one of the pool's slots is free."""
        if self._limiter is None:  # made on the loop that uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        call = functools.partial(function, *args)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)
