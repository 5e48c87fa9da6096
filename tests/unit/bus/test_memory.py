"""InMemoryEventBus: exactly-once in-order delivery, isolation of slow and failing subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.events import AlertRaised, Channel, Event, HealthChecked, Tick

START = datetime(2026, 1, 5, tzinfo=UTC)


def tick(number: int) -> Tick:
    return Tick(ts=START + timedelta(seconds=number), source="test", kind=f"k{number}")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


@settings(max_examples=40, deadline=None)
@given(events=st.integers(0, 60), subscribers=st.integers(1, 5))
def test_each_subscriber_gets_each_event_once_in_order(events: int, subscribers: int) -> None:
    async def scenario() -> list[Recorder]:
        bus = InMemoryEventBus()
        recorders = [Recorder() for _ in range(subscribers)]
        for index, recorder in enumerate(recorders):
            bus.subscribe(Tick, recorder, name=f"sub{index}")
        await bus.start()
        for number in range(events):
            await bus.publish(tick(number))
        await bus.drain()
        await bus.stop()
        return recorders

    published = [f"k{number}" for number in range(events)]
    for recorder in asyncio.run(scenario()):
        assert [getattr(event, "kind", None) for event in recorder.seen] == published


async def test_raising_subscriber_does_not_affect_others() -> None:
    bus = InMemoryEventBus()
    healthy = Recorder()

    async def broken(event: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(Tick, broken, name="broken")
    bus.subscribe(Tick, healthy, name="healthy")
    await bus.start()
    for number in range(10):
        await bus.publish(tick(number))
    await bus.drain()
    stats = bus.stats()
    await bus.stop()
    assert len(healthy.seen) == 10
    by_name = {sub.name: sub for sub in stats.subscribers}
    assert by_name["broken"].failed == 10
    assert by_name["healthy"].delivered == 10
    assert stats.published == 10


async def test_slow_subscriber_does_not_block_others_and_drops_when_full() -> None:
    bus = InMemoryEventBus(queue_size=2)
    gate = asyncio.Event()
    fast = Recorder()

    async def slow(event: Event) -> None:
        await gate.wait()

    bus.subscribe(Tick, slow, name="slow")
    bus.subscribe(Tick, fast, name="fast")
    await bus.start()
    for number in range(5):
        await bus.publish(tick(number))
        await asyncio.sleep(0)  # let the fast worker run
    await asyncio.wait_for(_until(lambda: len(fast.seen) == 5), timeout=2)
    stats = {sub.name: sub for sub in bus.stats().subscribers}
    assert stats["slow"].dropped >= 2  # one in its handler, two queued, the rest dropped
    assert stats["fast"].dropped == 0
    gate.set()
    await bus.drain()
    await bus.stop()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - polling a plain list in a test
        await asyncio.sleep(0.001)


async def test_subscribe_by_channel_and_by_type() -> None:
    bus = InMemoryEventBus()
    by_channel, by_type = Recorder(), Recorder()
    bus.subscribe(Channel.ALERT, by_channel, name="channel")
    bus.subscribe(HealthChecked, by_type, name="type")
    await bus.start()
    await bus.publish(AlertRaised(ts=START, source="t", alertname="X", severity="info"))
    await bus.publish(HealthChecked(ts=START, source="t", target="a", status="healthy"))
    await bus.publish(tick(1))
    await bus.drain()
    await bus.stop()
    assert [type(event) for event in by_channel.seen] == [AlertRaised]
    assert [type(event) for event in by_type.seen] == [HealthChecked]


async def test_drain_waits_for_cascades() -> None:
    bus = InMemoryEventBus()
    final = Recorder()

    async def relay(event: Event) -> None:
        await bus.publish(HealthChecked(ts=START, source="relay", target="a", status="healthy"))

    bus.subscribe(Tick, relay, name="relay")
    bus.subscribe(HealthChecked, final, name="final")
    await bus.start()
    await bus.publish(tick(0))
    await bus.drain()
    await bus.stop()
    assert len(final.seen) == 1
