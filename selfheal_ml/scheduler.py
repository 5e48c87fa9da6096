"""The scheduler: turns intervals into :class:`~selfheal_ml.events.Tick` events.

Agents never sleep or loop; periodic work arrives as ticks. The same scheduler runs on a
``RealClock`` (``run_forever``, waiting on the event loop) or a ``SimClock`` (``run_until``,
which jumps virtual time from one due tick to the next and waits for the bus to go quiet after
each, so a simulated week replays in seconds and deterministically).

>>> from datetime import datetime, UTC
>>> from selfheal_ml.clock import SimClock
>>> clock = SimClock(datetime(2026, 1, 1, tzinfo=UTC))
>>> plan = TickPlan({"health": 30.0, "metrics": 60.0}, clock.now())
>>> [tick.kind for tick in plan.pop_due(clock.now(), source="scheduler")]
['health', 'metrics']
>>> plan.next_due().isoformat()
'2026-01-01T00:00:30+00:00'
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from selfheal_ml.bus.base import EventBus
from selfheal_ml.clock import Clock, SimClock, sleep_until
from selfheal_ml.events import Tick

BeforeTicks = Callable[[datetime], Awaitable[None] | None]


class TickPlan:
    """When each named schedule fires next; pure bookkeeping, no waiting."""

    def __init__(self, intervals_s: Mapping[str, float], start: datetime) -> None:
        for kind, interval in intervals_s.items():
            if interval <= 0:
                raise ValueError(f"interval {kind}: expected > 0 seconds, got {interval!r}")
        self.intervals_s = dict(intervals_s)
        self._next = {kind: start for kind in intervals_s}

    def next_due(self) -> datetime:
        """The earliest moment any schedule fires."""
        return min(self._next.values())

    def pop_due(self, now: datetime, *, source: str) -> list[Tick]:
        """Ticks due at ``now`` (in name order), each schedule moved to its next slot."""
        ticks: list[Tick] = []
        for kind in sorted(self._next):
            due = self._next[kind]
            if due <= now:
                ticks.append(Tick(ts=due, source=source, kind=kind))
                step = timedelta(seconds=self.intervals_s[kind])
                missed = int((now - due) / step)  # skip slots missed while asleep
                self._next[kind] = due + step * (missed + 1)
        return ticks


class Scheduler:
    """Publishes ticks on the bus as the clock reaches them."""

    def __init__(
        self,
        clock: Clock,
        bus: EventBus,
        intervals_s: Mapping[str, float],
        *,
        before_ticks: BeforeTicks | None = None,
    ) -> None:
        self.clock = clock
        self.bus = bus
        self.plan = TickPlan(intervals_s, clock.now())
        self.before_ticks = before_ticks
        self.published = 0

    async def _fire_due(self) -> int:
        now = self.clock.now()
        if self.before_ticks is not None:
            pending = self.before_ticks(now)
            if pending is not None:
                await pending
        ticks = self.plan.pop_due(now, source="scheduler")
        for tick in ticks:
            await self.bus.publish(tick)
        self.published += len(ticks)
        return len(ticks)

    async def run_until(
        self, end: datetime, *, on_step: Callable[[datetime], None] | None = None
    ) -> int:
        """Virtual time: jump from due tick to due tick up to ``end``; returns ticks fired."""
        if not isinstance(self.clock, SimClock):
            raise TypeError(f"run_until needs a SimClock, got {type(self.clock).__name__}")
        fired = 0
        while self.plan.next_due() <= end:
            self.clock.advance_to(self.plan.next_due())
            fired += await self._fire_due()
            await self.bus.drain()
            if on_step is not None:
                on_step(self.clock.now())
        self.clock.advance_to(end)
        return fired

    async def run_forever(self) -> None:
        """Real time: sleep until the next due tick, fire, repeat (until cancelled)."""
        while True:
            await sleep_until(self.clock, self.plan.next_due())
            await self._fire_due()
            await asyncio.sleep(0)
