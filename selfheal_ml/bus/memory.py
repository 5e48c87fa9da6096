"""In-process asyncio event bus with one bounded queue and one worker task per subscriber.

``publish`` never waits: it puts the event on each matching subscriber's queue, and a full
queue drops the event for that subscriber only (counted). A subscriber given as a
:class:`~selfheal_ml.bus.batch_handler.BatchHandler` gets the events queued for it in lists
(the one it waited for and those already behind it), one call per list. A handler that raises
is counted and logged; its worker carries on with the next event. So a slow or broken
subscriber can only hurt itself. A worker whose queue stays full still hands the event loop
over every ``YIELD_EVERY_S``.

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
import time
from dataclasses import dataclass, field

from selfheal_ml.bus.base import BusStats, Handler, Selector, SubscriberStats, describe, matches
from selfheal_ml.bus.batch_handler import BatchHandler
from selfheal_ml.events import Event

log = logging.getLogger(__name__)

#: A subscriber's worker hands the event loop over at least this often (wall seconds) while
#: its queue stays full: 20,000 events of an anomaly storm ran without a break, and every
#: request to the API waited for the whole storm.
YIELD_EVERY_S = 0.005


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
        yielded_at = time.perf_counter()
        while True:
            if time.perf_counter() - yielded_at >= YIELD_EVERY_S:
                # a queue that is never empty never suspends ``get``: let the loop serve
                # others (``/health``, the other subscribers) between the events of a storm
                await asyncio.sleep(0)
                yielded_at = time.perf_counter()
            batch = [await subscriber.queue.get()]
            handler = subscriber.handler
            try:
                if isinstance(handler, BatchHandler):
                    # the events already queued behind it ride along (at most max_batch)
                    queue = subscriber.queue
                    while len(batch) < handler.max_batch and not queue.empty():
                        batch.append(queue.get_nowait())
                    await handler.handle_batch(batch)
                else:
                    await handler(batch[0])
                subscriber.stats.delivered += len(batch)
            except asyncio.CancelledError:
                self._done(subscriber, len(batch))
                raise
            except Exception:
                subscriber.stats.failed += len(batch)
                log.exception("bus: subscriber %s failed on %s", subscriber.stats.name, batch[0])
            self._done(subscriber, len(batch))

    @staticmethod
    def _done(subscriber: _Subscriber, count: int) -> None:
        subscriber.pending -= count
        for _ in range(count):
            subscriber.queue.task_done()
