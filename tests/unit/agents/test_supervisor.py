"""Supervisor: restarts a raising agent with backoff, marks it failed, publishes AgentFailed."""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.supervisor import SupervisedAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import AgentFailed, Event, HealthChecked, Tick


class FlakyAgent(Agent):
    name: ClassVar[str] = "Flaky"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick,)

    def __init__(self, context: AgentContext, failures: int) -> None:
        super().__init__(context)
        self.failures_left = failures
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1

    async def handle(self, event: Event) -> list[Event]:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("flaky")
        return [HealthChecked(ts=event.ts, source=self.name, target="x", status="healthy")]


async def _run(
    failures: int, max_failures: int, ticks: int, clock: SimClock
) -> tuple[FlakyAgent, SupervisedAgent, list[Event]]:
    bus = InMemoryEventBus()
    agent = FlakyAgent(AgentContext(bus=bus, clock=clock), failures)
    supervised = SupervisedAgent(agent, bus, max_failures=max_failures, backoff_base_s=0.001)
    out: list[Event] = []

    async def record(event: Event) -> None:
        out.append(event)

    bus.subscribe(HealthChecked, record, name="health")
    bus.subscribe(AgentFailed, record, name="failed")
    await supervised.start()
    await bus.start()
    for _ in range(ticks):
        await bus.publish(Tick(ts=clock.now(), source="t", kind="x"))
    await bus.drain()
    await bus.stop()
    return agent, supervised, out


async def test_restarts_then_recovers(sim_clock: SimClock) -> None:
    agent, supervised, out = await _run(failures=2, max_failures=5, ticks=4, clock=sim_clock)
    assert supervised.status.restarts == 2
    assert agent.starts == 3
    assert supervised.status.running and not supervised.status.failed
    assert [type(event) for event in out] == [HealthChecked, HealthChecked]


async def test_marks_failed_and_publishes_agent_failed(sim_clock: SimClock) -> None:
    _, supervised, out = await _run(failures=100, max_failures=3, ticks=6, clock=sim_clock)
    assert supervised.status.failed and not supervised.status.running
    assert supervised.status.errors == 3  # later events are ignored, not retried
    failed = [event for event in out if isinstance(event, AgentFailed)]
    assert len(failed) == 1
    assert failed[0].agent == "Flaky" and failed[0].failures == 3


def test_backoff_doubles_and_caps(sim_clock: SimClock) -> None:
    bus = InMemoryEventBus()
    supervised = SupervisedAgent(
        FlakyAgent(AgentContext(bus=bus, clock=sim_clock), 0),
        bus,
        backoff_base_s=0.5,
        backoff_cap_s=3.0,
    )
    assert [supervised.backoff_s(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
