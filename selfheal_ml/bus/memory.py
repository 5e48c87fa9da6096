"""In-process asyncio event bus with one bounded queue and one worker task per subscriber.

``publish`` never waits: it puts the event on each matching subscriber's queue, and a full
queue drops the event for that subscriber only (counted). A handler that raises is counted and
logged; its worker carries on with the next event. So a slow or broken subscriber can only hurt
itself.

>>> import asyncio
>>> from datetime import datetime, UTC
>>> from selfheal_ml.events import Tick
>>> async def demo() -> list[str]:
...     bus, seen = InMemoryEventBus(), []
...     async def remember(event):
...         seen.append(event.kind)
...     bus.subscribe(Tick, remember, name="demo")
...     await bus.start()
...     await bus.publish(Tick(ts=datetime(2026, 1, 1, tzinfo=UTC), source="t", kind="collect"))
...     await bus.drain()
...     await bus.stop()
...     return seen
>>> asyncio.run(demo())
['collect']
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from selfheal_ml.bus.base import BusStats, Handler, Selector, SubscriberStats, describe, matches
from selfheal_ml.events import Event

log = logging.getLogger(__name__)


@dataclass
class _Subscriber:
    selector: Selector
    handler: Handler
    stats: SubscriberStats
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None
    pending: int = 0  # queued or being handled


class InMemoryEventBus:
    """The default bus: asyncio queues in one process."""

    def __init__(self, queue_size: int = 10_000) -> None:
        if queue_size <= 0:
            raise ValueError(f"queue_size: expected > 0, got {queue_size!r}")
        self.queue_size = queue_size
        self._subscribers: list[_Subscriber] = []
        self._published = 0
        self._running = False

    def subscribe(self, selector: Selector, handler: Handler, *, name: str) -> None:
        stats = SubscriberStats(name=name, selector=describe(selector))
        subscriber = _Subscriber(selector, handler, stats, asyncio.Queue(self.queue_size))
        self._subscribers.append(subscriber)
        if self._running:
            subscriber.worker = asyncio.create_task(self._work(subscriber), name=f"bus:{name}")

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        for subscriber in self._subscribers:
            name = f"bus:{subscriber.stats.name}"
            subscriber.worker = asyncio.create_task(self._work(subscriber), name=name)

    async def publish(self, event: Event) -> None:
        self._published += 1
        for subscriber in self._subscribers:
            if not matches(subscriber.selector, event):
                continue
            try:
                subscriber.queue.put_nowait(event)
                subscriber.pending += 1
            except asyncio.QueueFull:
                subscriber.stats.dropped += 1
                log.warning("bus: queue of %s full, dropped %s", subscriber.stats.name, event)

    async def drain(self) -> None:
        # handlers may publish more events while we wait: loop until every queue is idle
        while any(subscriber.pending for subscriber in self._subscribers):
            for subscriber in self._subscribers:
                await subscriber.queue.join()

    async def stop(self) -> None:
        self._running = False
        for subscriber in self._subscribers:
            if subscriber.worker is not None:
                subscriber.worker.cancel()
        for subscriber in self._subscribers:
            if subscriber.worker is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await subscriber.worker
                subscriber.worker = None
            while not subscriber.queue.empty():
                subscriber.queue.get_nowait()
                subscriber.queue.task_done()
                subscriber.pending -= 1
                subscriber.stats.dropped += 1

    def stats(self) -> BusStats:
        for subscriber in self._subscribers:
            subscriber.stats.queued = subscriber.queue.qsize()
        return BusStats(
            published=self._published,
            subscribers=[SubscriberStats(**vars(sub.stats)) for sub in self._subscribers],
        )

    async def _work(self, subscriber: _Subscriber) -> None:
        while True:
            event = await subscriber.queue.get()
            try:
                await subscriber.handler(event)
                subscriber.stats.delivered += 1
            except asyncio.CancelledError:
                subscriber.pending -= 1
                subscriber.queue.task_done()
                raise
            except Exception:
                subscriber.stats.failed += 1
                log.exception("bus: subscriber %s failed on %s", subscriber.stats.name, event)
            subscriber.pending -= 1
            subscriber.queue.task_done()
