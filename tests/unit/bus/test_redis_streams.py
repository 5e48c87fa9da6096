"""RedisStreamsEventBus beyond the shared contract: acknowledged delivery across consumers and
restarts, bounded streams, duplicate events, competing consumers (needs the real Redis)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import redis

from selfheal_ml.bus import RedisStreamsEventBus
from selfheal_ml.bus.codec import encode_event
from selfheal_ml.events import Channel, Event, Tick
from tests.unit.bus.conftest import REDIS_URL, until

START = datetime(2026, 1, 5, tzinfo=UTC)


def tick(number: int) -> Tick:
    return Tick(ts=START + timedelta(seconds=number), source="test", kind=f"k{number}")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


def kinds(recorder: Recorder) -> list[str]:
    return [getattr(event, "kind", "") for event in recorder.seen]


async def test_pending_entries_of_a_dead_consumer_are_claimed(redis_prefix: str) -> None:
    first = RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, consumer="alive", block_ms=20)
    seen = Recorder()
    first.subscribe(Tick, seen, name="agent")
    await first.start()  # creates the group
    await first.stop()
    stream, group = first.stream_key(Channel.SCHEDULE), first.group_name("agent", Tick)
    client = redis.Redis.from_url(REDIS_URL)
    for number in range(3):
        client.xadd(stream, encode_event(tick(number)))  # type: ignore[arg-type]
    # a consumer reads the three, then dies before acknowledging them
    client.xreadgroup(group, "dead", {stream: ">"}, count=10)
    assert client.xpending(stream, group)["pending"] == 3
    bus = RedisStreamsEventBus(
        REDIS_URL,
        prefix=redis_prefix,
        consumer="alive",
        block_ms=20,
        claim_idle_ms=0,
        claim_every_s=0.0,
    )
    bus.subscribe(Tick, seen, name="agent")
    await bus.start()
    await until(lambda: len(seen.seen) == 3)
    await bus.drain()
    await bus.stop()
    assert kinds(seen) == ["k0", "k1", "k2"]
    assert client.xpending(stream, group)["pending"] == 0
    client.close()


async def test_a_restarted_consumer_rereads_its_own_pending_entries(redis_prefix: str) -> None:
    bus = RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, consumer="scorer-0", block_ms=20)
    seen = Recorder()
    bus.subscribe(Tick, seen, name="agent")
    await bus.start()
    await bus.stop()
    stream, group = bus.stream_key(Channel.SCHEDULE), bus.group_name("agent", Tick)
    client = redis.Redis.from_url(REDIS_URL)
    client.xadd(stream, encode_event(tick(7)))  # type: ignore[arg-type]
    client.xreadgroup(group, "scorer-0", {stream: ">"}, count=10)  # read, then killed
    restarted = RedisStreamsEventBus(
        REDIS_URL, prefix=redis_prefix, consumer="scorer-0", block_ms=20
    )
    restarted.subscribe(Tick, seen, name="agent")
    await restarted.start()
    await until(lambda: len(seen.seen) == 1)
    await restarted.stop()
    assert kinds(seen) == ["k7"]
    assert client.xpending(stream, group)["pending"] == 0
    client.close()


async def test_an_event_delivered_twice_is_handled_once(redis_prefix: str) -> None:
    bus = RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, block_ms=20)
    seen = Recorder()
    bus.subscribe(Tick, seen, name="agent")
    await bus.start()
    event = tick(1)
    await bus.publish(event)
    await bus.publish(event)  # at-least-once: the same event id again
    await bus.publish(tick(2))
    await bus.drain()
    await bus.stop()
    assert kinds(seen) == ["k1", "k2"]


async def test_streams_are_bounded(redis_prefix: str) -> None:
    bus = RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, maxlen=100)
    await bus.start()
    for number in range(1000):
        await bus.publish(tick(number))
    await bus.stop()
    client = redis.Redis.from_url(REDIS_URL)
    length = client.xlen(bus.stream_key(Channel.SCHEDULE))
    client.close()
    assert 100 <= length < 1000  # MAXLEN ~: trimmed by whole nodes, never below the bound


async def test_processes_sharing_a_group_share_its_events(redis_prefix: str) -> None:
    buses = [
        RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, consumer=f"c{index}", block_ms=20)
        for index in range(2)
    ]
    recorders = [Recorder(), Recorder()]
    for bus, recorder in zip(buses, recorders, strict=True):
        bus.subscribe(Tick, recorder, name="Diagnostic")
        await bus.start()
    for number in range(200):
        await buses[0].publish(tick(number))
    await until(lambda: sum(len(recorder.seen) for recorder in recorders) == 200)
    await asyncio.gather(*(bus.drain() for bus in buses))
    for bus in buses:
        await bus.stop()
    handled = sorted(kinds(recorders[0]) + kinds(recorders[1]))
    assert handled == sorted(f"k{number}" for number in range(200))  # each once, in one process


async def test_group_tags_give_each_partition_every_event(redis_prefix: str) -> None:
    buses = [
        RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, group_tag=f"p{k}of2", block_ms=20)
        for k in range(2)
    ]
    recorders = [Recorder(), Recorder()]
    for bus, recorder in zip(buses, recorders, strict=True):
        bus.subscribe(Tick, recorder, name="Predictive")
        await bus.start()
    for number in range(20):
        await buses[0].publish(tick(number))
    for bus in buses:
        await bus.drain()
        await bus.stop()
    assert kinds(recorders[0]) == kinds(recorders[1]) == [f"k{n}" for n in range(20)]


async def test_a_subscriber_survives_its_stream_being_deleted(redis_prefix: str) -> None:
    bus = RedisStreamsEventBus(REDIS_URL, prefix=redis_prefix, block_ms=20)
    seen = Recorder()
    bus.subscribe(Tick, seen, name="agent")
    stream, group = bus.stream_key(Channel.SCHEDULE), bus.group_name("agent", Tick)
    client = redis.Redis.from_url(REDIS_URL)

    def group_exists() -> bool:
        groups = client.xinfo_groups(stream) if client.exists(stream) else []
        return any(entry["name"].decode() == group for entry in groups)

    await bus.start()
    try:
        await bus.publish(tick(1))
        await until(lambda: len(seen.seen) == 1)
        client.delete(stream)  # an operator's FLUSHALL, a Redis restarted without AOF
        # the worker notices (NOGROUP) and creates its group again, at the stream's end
        await until(group_exists)
        await bus.publish(tick(2))
        await until(lambda: len(seen.seen) == 2)
    finally:
        await bus.stop()
        client.close()
    assert kinds(seen) == ["k1", "k2"]
