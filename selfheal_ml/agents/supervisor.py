"""Supervision: runs an agent behind the bus, restarts it when it raises, gives up loudly.

A handler that raises counts as a failure: the agent is stopped and started again after a
backoff that doubles with each consecutive failure. After ``max_failures`` consecutive
failures the agent is marked failed, stops receiving events and an ``AgentFailed`` event is
published (the AlertManager turns it into a critical alert). A success resets the streak.
"""

from __future__ import annotations

import asyncio
import logging

from selfheal_ml.agents.base import Agent, AgentStatus
from selfheal_ml.bus.base import EventBus
from selfheal_ml.events import AgentFailed, Event

log = logging.getLogger(__name__)


class SupervisedAgent:
    """One agent, its status and its restart policy."""

    def __init__(
        self,
        agent: Agent,
        bus: EventBus,
        *,
        max_failures: int = 5,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
    ) -> None:
        self.agent = agent
        self.bus = bus
        self.max_failures = max_failures
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.status = AgentStatus(name=agent.name, enabled=True)
        self._streak = 0

    async def start(self) -> None:
        """Start the agent and subscribe it to its selectors."""
        await self.agent.start()
        for selector in self.agent.subscriptions:
            self.bus.subscribe(selector, self.deliver, name=self.agent.name)
        self.status.running = True

    async def stop(self) -> None:
        """Stop the agent (its subscriptions ignore events from now on)."""
        if self.status.running:
            self.status.running = False
            await self.agent.stop()

    async def deliver(self, event: Event) -> None:
        """Bus handler: run the agent on ``event`` and publish what it returns."""
        if not self.status.running:
            return
        try:
            emitted = await self.agent.handle(event)
        except Exception as exc:  # the supervisor's job is to contain any failure
            await self._on_failure(event, exc)
            return
        self._streak = 0
        self.status.handled += 1
        self.status.last_event_at = event.ts
        for produced in emitted:
            await self.bus.publish(produced)

    def backoff_s(self, streak: int) -> float:
        """Delay before restart number ``streak`` (1-based): doubling, capped."""
        return float(min(self.backoff_base_s * 2 ** (streak - 1), self.backoff_cap_s))

    async def _on_failure(self, event: Event, exc: Exception) -> None:
        self._streak += 1
        self.status.errors += 1
        self.status.last_error = f"{type(exc).__name__}: {exc}"
        log.error("%s agent failed on %s: %s", self.agent.name, type(event).__name__, exc)
        if self._streak >= self.max_failures:
            await self._give_up(event)
            return
        self.status.running = False
        await self.agent.stop()
        await asyncio.sleep(self.backoff_s(self._streak))
        await self.agent.start()
        self.status.restarts += 1
        self.status.running = True

    async def _give_up(self, event: Event) -> None:
        self.status.running = False
        self.status.failed = True
        await self.agent.stop()
        log.critical("%s agent marked failed after %d failures", self.agent.name, self._streak)
        await self.bus.publish(
            AgentFailed(
                ts=event.ts,
                source="supervisor",
                agent=self.agent.name,
                error=self.status.last_error or "",
                failures=self._streak,
                correlation_id=event.correlation_id,
            )
        )
