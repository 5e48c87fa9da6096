"""A handler that takes every event already queued for it in one call.

A subscriber whose work per event is small next to a fixed cost per call (a hop to a worker
thread, a DuckDB transaction) pays that cost once per event when events come one at a time:
an anomaly storm of 17,000 ``AnomalyDetected`` cost the AlertManager 17,000 thread hops and
17,000 transactions. Subscribed as a :class:`BatchHandler`, it gets them in lists instead: the
in-memory bus hands it the event it waited for plus whatever is already queued behind it (at
most ``max_batch``), in publish order, so a quiet bus still delivers each event at once and a
storm costs one call per batch. A bus that does not batch calls it with one event at a time,
which is the same work in more calls (``__call__``).

>>> import asyncio
>>> from datetime import datetime, UTC
>>> from selfheal_ml.events import Tick
>>> calls: list[int] = []
>>> async def remember(events):
...     calls.append(len(events))
>>> handler = BatchHandler(remember, max_batch=10)
>>> asyncio.run(handler(Tick(ts=datetime(2026, 1, 1, tzinfo=UTC), source="t", kind="x")))
>>> calls
[1]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from selfheal_ml.events import Event

BatchWork = Callable[[Sequence[Event]], Awaitable[None]]


class BatchHandler:
    """A bus handler for lists of events (see module doc); callable with one event too."""

    def __init__(self, handle_batch: BatchWork, *, max_batch: int = 2_000) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch: expected >= 1, got {max_batch!r}")
        self.handle_batch = handle_batch
        self.max_batch = max_batch

    async def __call__(self, event: Event) -> None:
        await self.handle_batch([event])
