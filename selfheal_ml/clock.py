"""Clocks: every component reads time from a :class:`Clock`, never from ``datetime.now``.

``RealClock`` is the wall clock for the service. ``SimClock`` is virtual time for tests, demos
and benchmarks: it only moves when told to (``advance``/``advance_to``), so a simulated week
replays in seconds and results are deterministic.

>>> from datetime import datetime, UTC
>>> clock = SimClock(datetime(2026, 1, 1, tzinfo=UTC))
>>> clock.advance(90)
>>> clock.now().isoformat()
'2026-01-01T00:01:30+00:00'
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, Protocol, TypeVar

#: Response extension (``httpx.Response.extensions``) in which a transport that stands in for
#: the network under virtual time reports how long the target took, in seconds. The HTTP
#: collectors report it instead of the wall time they measured, which under a ``SimClock``
#: is only this process's own overhead: noise, and not reproducible.
SIMULATED_ELAPSED_S = "selfheal_ml.simulated_elapsed_s"

Params = ParamSpec("Params")
Result = TypeVar("Result")


class Clock(Protocol):
    """Source of the current time (timezone-aware UTC) and of monotonic seconds."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...


class RealClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class SimClock:
    """Virtual time that moves only when advanced; deterministic and instant."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, midnight
        if start.tzinfo is None:
            raise ValueError(f"start: expected a timezone-aware datetime, got {start!r}")
        self._start = start.astimezone(UTC)
        self._elapsed_s = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed_s)

    def monotonic(self) -> float:
        return self._elapsed_s

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (must be >= 0)."""
        if seconds < 0:
            raise ValueError(f"seconds: expected >= 0, got {seconds!r}")
        self._elapsed_s += seconds

    def advance_to(self, moment: datetime) -> None:
        """Move time forward to ``moment`` (no-op if it is not in the future)."""
        delta = (moment - self.now()).total_seconds()
        if delta > 0:
            self._elapsed_s += delta


async def sleep_until(clock: Clock, moment: datetime) -> None:
    """Wait on the real event loop until ``clock`` reaches ``moment``.

    Only meaningful for :class:`RealClock`; virtual time is driven by its owner instead.
    """
    remaining = (moment - clock.now()).total_seconds()
    if remaining > 0:
        await asyncio.sleep(remaining)


async def run_blocking(
    clock: Clock, func: Callable[Params, Result], /, *args: Params.args, **kwargs: Params.kwargs
) -> Result:
    """Run blocking work (DuckDB, a round of scoring, a model fit) from a coroutine.

    Real time: in a worker thread, so the API and the timers stay responsive meanwhile.
    Virtual time: inline. Nothing waits on the event loop there (the scheduler drains the bus
    after every tick), so a thread hop per call would only add hand-offs of the GIL, a visible
    share of a demo's time. Inline also makes the order of the work independent of threads.

    >>> asyncio.run(run_blocking(SimClock(), sum, [1, 2, 3]))
    6
    """
    if isinstance(clock, SimClock):
        return func(*args, **kwargs)
    return await asyncio.to_thread(func, *args, **kwargs)
