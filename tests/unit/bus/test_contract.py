"""The EventBus contract, on every implementation: each subscriber gets each matching event
once and in order, a raising subscriber hurts only itself, selection by channel and by type,
and ``drain`` waits for cascades."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfheal_ml.bus import EventBus
from selfheal_ml.events import AlertRaised, Channel, Event, HealthChecked, Tick

BusFactory = Callable[[], EventBus]

START = datetime(2026, 1, 5, tzinfo=UTC)


def tick(number: int) -> Tick:
    return Tick(ts=START + timedelta(seconds=number), source="test", kind=f"k{number}")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.integers(0, 40), subscribers=st.integers(1, 4))
def test_each_subscriber_gets_each_event_once_in_order(
    make_bus: BusFactory, events: int, subscribers: int
) -> None:
    async def scenario() -> list[Recorder]:
        bus = make_bus()
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


async def test_raising_subscriber_does_not_affect_others(make_bus: BusFactory) -> None:
    bus = make_bus()
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


async def test_subscribe_by_channel_and_by_type(make_bus: BusFactory) -> None:
    bus = make_bus()
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


async def test_events_arrive_equal_to_what_was_published(make_bus: BusFactory) -> None:
    bus = make_bus()
    seen = Recorder()
    bus.subscribe(AlertRaised, seen, name="alerts")
    await bus.start()
    sent = AlertRaised(ts=START, source="t", alertname="X", severity="critical", firing=False)
    await bus.publish(sent)
    await bus.drain()
    await bus.stop()
    assert seen.seen == [sent]


async def test_drain_waits_for_cascades(make_bus: BusFactory) -> None:
    bus = make_bus()
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
