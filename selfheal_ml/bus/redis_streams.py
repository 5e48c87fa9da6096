"""The event bus on Redis Streams: agents in separate processes, or on separate machines.

One stream per channel (``{prefix}:system.metric``, ...), trimmed to about ``maxlen`` entries
(``XADD MAXLEN ~``). Each subscription is a consumer group named after the subscriber and its
selector (plus the process's ``group_tag``, if any): every group sees every event of its
streams, and the processes that share a group share its events (competing consumers, the way
to scale one agent out). A subscription's worker reads its group (``XREADGROUP``), runs the
handler, then acknowledges (``XACK``, once per batch read): an event is acknowledged only once
handled, so a process killed mid-event gets it again. On start a worker first re-reads its own
consumer's pending entries (a restart under the same consumer name resumes where it died), and
every ``claim_every_s`` it takes over entries another consumer of its group left pending for
longer than ``claim_idle_ms`` (``XAUTOCLAIM``: that consumer is presumed dead).

Delivery is at least once: an event may arrive twice (a crash between handler and ack).
Each subscription remembers the last ``remembered`` event ids it handled and skips repeats;
across a restart, handlers are idempotent on ``event_id`` (or on the data: the detector bank
refuses a point no newer than the last one of its series).

A handler that raises is counted (``failed``) and logged, and its event acknowledged anyway:
a poison event must not come back forever. Malformed entries are counted the same way.

``publish`` does not wait for Redis (as on the memory bus): events go to an outbox that one
task writes in pipelined batches (a round trip per event made publishing 100x slower than
reading). The outbox is flushed before an event is acknowledged, so what a handler published
is in Redis before its input is acknowledged, and by ``drain`` and ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pydantic
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from selfheal_ml.bus.base import BusStats, Handler, Selector, SubscriberStats, describe, matches
from selfheal_ml.bus.codec import UnknownEventTypeError, channels_of, decode_event, encode_event
from selfheal_ml.events import Channel, Event

log = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes] | None]


def default_consumer() -> str:
    """This process's consumer name: host and pid (unique while the process lives)."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class _Subscription:
    selector: Selector
    handler: Handler
    stats: SubscriberStats
    group: str
    streams: tuple[str, ...]
    worker: asyncio.Task[None] | None = None
    busy: int = 0
    recent: OrderedDict[str, None] = field(default_factory=OrderedDict)


class RedisStreamsEventBus:
    """Redis Streams with consumer groups, behind the :class:`~selfheal_ml.bus.EventBus` port."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "selfheal",
        maxlen: int = 100_000,
        consumer: str | None = None,
        group_tag: str = "",
        block_ms: int = 200,
        batch: int = 64,
        claim_idle_ms: int = 15_000,
        claim_every_s: float = 5.0,
        remembered: int = 10_000,
    ) -> None:
        if maxlen <= 0:
            raise ValueError(f"maxlen: expected > 0, got {maxlen!r}")
        self.url = url
        self.prefix = prefix
        self.maxlen = maxlen
        self.consumer = consumer or default_consumer()
        self.group_tag = group_tag
        self.block_ms = block_ms
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.claim_every_s = claim_every_s
        self.remembered = remembered
        self._client: aioredis.Redis | None = None
        self._subscriptions: list[_Subscription] = []
        self._published = 0
        self._running = False
        self._outbox: list[tuple[str, dict[str, str]]] = []
        self._writer: asyncio.Task[None] | None = None

    def stream_key(self, channel: Channel) -> str:
        """The stream of ``channel``."""
        return f"{self.prefix}:{channel.value}"

    def group_name(self, name: str, selector: Selector) -> str:
        """The consumer group of subscriber ``name`` on ``selector``."""
        tag = f":{self.group_tag}" if self.group_tag else ""
        return f"{name}:{describe(selector)}{tag}"

    def subscribe(self, selector: Selector, handler: Handler, *, name: str) -> None:
        streams = tuple(self.stream_key(channel) for channel in channels_of(selector))
        stats = SubscriberStats(name=name, selector=describe(selector))
        subscription = _Subscription(
            selector, handler, stats, self.group_name(name, selector), streams
        )
        self._subscriptions.append(subscription)
        if self._running:
            subscription.worker = asyncio.create_task(
                self._start_and_work(subscription), name=f"bus:{name}"
            )

    async def start(self) -> None:
        if self._running:
            return
        self._client = aioredis.from_url(self.url)
        for subscription in self._subscriptions:
            await self._create_groups(subscription)
        self._running = True
        for subscription in self._subscriptions:
            subscription.worker = asyncio.create_task(
                self._work(subscription), name=f"bus:{subscription.stats.name}"
            )

    async def publish(self, event: Event) -> None:
        self._connected()
        self._outbox.append((self.stream_key(event.channel), encode_event(event)))
        self._published += 1
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_outbox(), name="bus:outbox")

    async def flush(self) -> None:
        """Wait until every published event is in Redis."""
        while self._outbox or (self._writer is not None and not self._writer.done()):
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._write_outbox(), name="bus:outbox")
            await asyncio.shield(self._writer)

    async def _write_outbox(self) -> None:
        client = self._connected()
        while self._outbox:
            batch, self._outbox = self._outbox, []
            pipeline = client.pipeline(transaction=False)
            for stream, fields in batch:
                entry: Any = fields
                pipeline.xadd(stream, entry, maxlen=self.maxlen, approximate=True)
            try:
                await pipeline.execute()
            except RedisError:
                self._outbox[:0] = batch  # kept, in order, for the next flush
                raise

    async def drain(self) -> None:
        # idle twice in a row: a handler may publish (a cascade) just before it acknowledges
        settled = 0
        await self.flush()
        while settled < 2:
            idle = not any(sub.busy for sub in self._subscriptions)
            settled = settled + 1 if idle and await self._caught_up() else 0
            await asyncio.sleep(0.002)

    async def stop(self) -> None:
        if self._client is not None:
            await self.flush()
        self._running = False
        for subscription in self._subscriptions:
            if subscription.worker is not None:
                subscription.worker.cancel()
        for subscription in self._subscriptions:
            if subscription.worker is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await subscription.worker
                subscription.worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def stats(self) -> BusStats:
        return BusStats(
            published=self._published,
            subscribers=[SubscriberStats(**vars(sub.stats)) for sub in self._subscriptions],
        )

    def _connected(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("the Redis bus is not started")
        return self._client

    async def _create_groups(self, subscription: _Subscription) -> None:
        client = self._connected()
        for stream in subscription.streams:
            try:  # a new group starts at the stream's end: it never replays old history
                await client.xgroup_create(stream, subscription.group, id="$", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _caught_up(self) -> bool:
        client = self._connected()
        for subscription in self._subscriptions:
            for stream in subscription.streams:
                last = (await client.xinfo_stream(stream))["last-generated-id"]
                groups = await client.xinfo_groups(stream)
                for group in groups:
                    if _text(group["name"]) != subscription.group:
                        continue
                    if group["pending"] or _text(group["last-delivered-id"]) != _text(last):
                        return False
        return True

    async def _start_and_work(self, subscription: _Subscription) -> None:
        await self._create_groups(subscription)
        await self._work(subscription)

    async def _work(self, subscription: _Subscription) -> None:
        await self._read_own_pending(subscription)
        claimed_at = time.monotonic()
        client = self._connected()
        # until stop(): it also cancels the worker, but a cancel that lands inside redis-py's
        # read can come back as a connection error, which the loop below would outlive
        while self._running:
            try:
                response: Any = await client.xreadgroup(
                    subscription.group,
                    self.consumer,
                    dict.fromkeys(subscription.streams, ">"),
                    count=self.batch,
                    block=self.block_ms,
                )
                for stream, entries in response or []:
                    await self._deliver(subscription, _text(stream), entries)
                if time.monotonic() - claimed_at >= self.claim_every_s:
                    await self._claim_abandoned(subscription)
                    claimed_at = time.monotonic()
            except RedisError as exc:  # Redis restarting, or the stream/group deleted under us
                log.warning("bus: %s cannot read: %s", subscription.group, exc)
                await asyncio.sleep(max(self.block_ms / 1000, 0.5))
                with contextlib.suppress(RedisError):
                    await self._create_groups(subscription)

    async def _read_own_pending(self, subscription: _Subscription) -> None:
        """Entries this consumer read but never acknowledged (it died mid-event)."""
        client = self._connected()
        for stream in subscription.streams:
            start = "0"
            while True:
                pending: Any = await client.xreadgroup(
                    subscription.group, self.consumer, {stream: start}, count=self.batch
                )
                entries: list[Entry] = pending[0][1] if pending else []
                if not entries:
                    break
                await self._deliver(subscription, stream, entries)
                start = _text(entries[-1][0])

    async def _claim_abandoned(self, subscription: _Subscription) -> None:
        """Take over entries another consumer of the group left pending too long."""
        client = self._connected()
        for stream in subscription.streams:
            start = "0-0"
            for _ in range(100):  # bounded: a huge backlog is finished on the next rounds
                claimed: Any = await client.xautoclaim(
                    stream,
                    subscription.group,
                    self.consumer,
                    self.claim_idle_ms,
                    start_id=start,
                    count=self.batch,
                )
                next_start, entries = claimed[0], claimed[1]
                await self._deliver(subscription, stream, entries)
                start = _text(next_start)
                if start == "0-0":
                    break

    async def _deliver(self, subscription: _Subscription, stream: str, entries: Any) -> None:
        """Handle a batch of entries in order, then acknowledge them in one ``XACK``: what
        the handlers published is in Redis first. A crash mid-batch redelivers the batch."""
        if not entries:
            return
        subscription.busy += 1
        try:
            for _entry_id, fields in entries:
                event = self._decoded(subscription, fields)
                if event is not None and matches(subscription.selector, event):
                    await self._handle_once(subscription, event)
            await self.flush()
            ids = [entry_id for entry_id, _fields in entries]
            await self._connected().xack(stream, subscription.group, *ids)
        finally:
            subscription.busy -= 1

    def _decoded(self, subscription: _Subscription, fields: Any) -> Event | None:
        if not fields:  # trimmed away while pending
            return None
        try:
            return decode_event(fields)
        except (UnknownEventTypeError, pydantic.ValidationError, KeyError) as exc:
            subscription.stats.failed += 1
            log.error("bus: %s got a malformed entry: %s", subscription.stats.name, exc)
            return None

    async def _handle_once(self, subscription: _Subscription, event: Event) -> None:
        if event.event_id in subscription.recent:
            return
        try:
            await subscription.handler(event)
            subscription.stats.delivered += 1
        except Exception:
            subscription.stats.failed += 1
            log.exception("bus: subscriber %s failed on %s", subscription.stats.name, event)
        subscription.recent[event.event_id] = None
        while len(subscription.recent) > self.remembered:
            subscription.recent.popitem(last=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
