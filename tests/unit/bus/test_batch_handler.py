"""BatchHandler on the in-memory bus: queued events arrive in lists, in publish order, each
once; ``drain`` waits for them; a failing list is counted event by event; a full queue still
lets the event loop run other tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.bus.batch_handler import BatchHandler
from selfheal_ml.events import Event, Tick

START = datetime(2026, 1, 5, tzinfo=UTC)


def tick(number: int) -> Tick:
    return Tick(ts=START + timedelta(seconds=number), source="test", kind=f"k{number}")


async def test_queued_events_arrive_in_lists_in_order_each_once() -> None:
    bus = InMemoryEventBus()
    lists: list[list[str]] = []

    async def remember(events: Sequence[Event]) -> None:
        lists.append([getattr(event, "kind", "") for event in events])

    bus.subscribe(Tick, BatchHandler(remember, max_batch=40), name="batched")
    await bus.start()
    for number in range(100):
        await bus.publish(tick(number))
    await bus.drain()
    await bus.stop()
    assert [kind for batch in lists for kind in batch] == [f"k{n}" for n in range(100)]
    assert [len(batch) for batch in lists] == [40, 40, 20]
    assert bus.stats().delivered == 100


async def test_a_failing_list_counts_each_event_and_the_worker_goes_on() -> None:
    bus = InMemoryEventBus()
    seen: list[int] = []

    async def fail_first(events: Sequence[Event]) -> None:
        seen.append(len(events))
        if len(seen) == 1:
            raise RuntimeError("boom")

    bus.subscribe(Tick, BatchHandler(fail_first), name="batched")
    await bus.start()
    for number in range(5):
        await bus.publish(tick(number))
    await bus.drain()
    await bus.publish(tick(9))
    await bus.drain()
    await bus.stop()
    assert seen == [5, 1]
    stats = bus.stats()
    assert (stats.failed, stats.delivered) == (5, 1)


async def test_a_long_queue_lets_other_tasks_run_meanwhile() -> None:
    bus = InMemoryEventBus(queue_size=100_000)
    handled: list[int] = []
    seen_by_other: list[int] = []

    async def slow(event: Event) -> None:
        handled.append(1)
        deadline = asyncio.get_running_loop().time() + 0.0005
        while asyncio.get_running_loop().time() < deadline:  # CPU work, no await
            pass

    async def other() -> None:
        for _ in range(5):
            seen_by_other.append(len(handled))
            await asyncio.sleep(0)

    bus.subscribe(Tick, slow, name="slow")
    await bus.start()
    for number in range(400):
        await bus.publish(tick(number))
    running = asyncio.create_task(other())
    await bus.drain()
    await running
    await bus.stop()
    assert seen_by_other[-1] < 400  # it ran before the queue was empty


def test_max_batch_must_be_positive() -> None:
    async def nothing(events: Sequence[Event]) -> None:
        return None

    with pytest.raises(ValueError, match="max_batch"):
        BatchHandler(nothing, max_batch=0)
