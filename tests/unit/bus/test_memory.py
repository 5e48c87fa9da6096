"""InMemoryEventBus: a slow subscriber drops only its own events (the shared contract is in
test_contract.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.events import Event, Tick

START = datetime(2026, 1, 5, tzinfo=UTC)


def tick(number: int) -> Tick:
    return Tick(ts=START + timedelta(seconds=number), source="test", kind=f"k{number}")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


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
