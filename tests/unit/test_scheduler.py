"""Scheduler: ticks at the configured intervals, driven by a SimClock."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest

from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import RealClock, SimClock
from selfheal_ml.events import Event, Tick
from selfheal_ml.scheduler import Scheduler, TickPlan


async def test_sim_clock_ticks_over_an_hour(sim_clock: SimClock) -> None:
    bus = InMemoryEventBus()
    seen: list[Tick] = []

    async def record(event: Event) -> None:
        assert isinstance(event, Tick)
        seen.append(event)

    bus.subscribe(Tick, record, name="recorder")
    await bus.start()
    start = sim_clock.now()
    scheduler = Scheduler(sim_clock, bus, {"health": 30.0, "metrics": 60.0, "optimize": 300.0})
    fired = await scheduler.run_until(start + timedelta(hours=1))
    await bus.stop()
    counts = Counter(tick.kind for tick in seen)
    # inclusive of both ends: 0, 30, ..., 3600
    assert counts == {"health": 121, "metrics": 61, "optimize": 13}
    assert fired == len(seen)
    assert sim_clock.now() == start + timedelta(hours=1)
    health_times = [tick.ts for tick in seen if tick.kind == "health"]
    assert all(b - a == timedelta(seconds=30) for a, b in pairwise(health_times))


async def test_ticks_are_deterministic(sim_clock: SimClock) -> None:
    async def run() -> list[tuple[str, str]]:
        clock = SimClock(sim_clock.now())
        bus = InMemoryEventBus()
        seen: list[tuple[str, str]] = []

        async def record(event: Event) -> None:
            seen.append((event.ts.isoformat(), getattr(event, "kind", "")))

        bus.subscribe(Tick, record, name="recorder")
        await bus.start()
        await Scheduler(clock, bus, {"a": 7.0, "b": 11.0}).run_until(
            clock.now() + timedelta(minutes=5)
        )
        await bus.stop()
        return seen

    assert await run() == await run()


def test_plan_skips_missed_slots(sim_clock: SimClock) -> None:
    plan = TickPlan({"health": 30.0}, sim_clock.now())
    plan.pop_due(sim_clock.now(), source="t")
    late = sim_clock.now() + timedelta(seconds=95)
    ticks = plan.pop_due(late, source="t")
    assert len(ticks) == 1  # one catch-up tick, not three
    assert plan.next_due() == sim_clock.now() + timedelta(seconds=120)


def test_plan_rejects_non_positive_interval(sim_clock: SimClock) -> None:
    with pytest.raises(ValueError, match="interval health"):
        TickPlan({"health": 0.0}, sim_clock.now())


async def test_run_until_needs_a_sim_clock() -> None:
    scheduler = Scheduler(RealClock(), InMemoryEventBus(), {"health": 30.0})
    with pytest.raises(TypeError, match="SimClock"):
        await scheduler.run_until(RealClock().now())
