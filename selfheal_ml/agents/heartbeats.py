"""Heartbeats: agents report themselves on the bus, so the API sees them wherever they run.

A process that hosts agents on a shared bus publishes an :class:`AgentHeartbeat` per agent
every ``every_s`` seconds (:func:`beat_forever`). The API process keeps the latest of each in an
:class:`AgentBoard`; an agent whose last beat is older than ``stale_after_s`` reports
``running: false`` (its process died or hangs), one never heard of reports ``enabled: false``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from selfheal_ml.agents.base import AgentStatus
from selfheal_ml.agents.supervisor import SupervisedAgent
from selfheal_ml.bus.base import EventBus
from selfheal_ml.clock import Clock
from selfheal_ml.events import AgentHeartbeat, Event

HEARTBEAT_S = 2.0
"""Seconds between two beats of an agent process."""


def heartbeats(
    agents: Mapping[str, SupervisedAgent], process: str, now: datetime
) -> list[AgentHeartbeat]:
    """One beat per hosted agent, from its supervisor's status."""
    return [
        AgentHeartbeat(
            ts=now,
            source="supervisor",
            agent=name,
            process=process,
            running=supervised.status.running,
            failed=supervised.status.failed,
            handled=supervised.status.handled,
            errors=supervised.status.errors,
            restarts=supervised.status.restarts,
        )
        for name, supervised in agents.items()
    ]


async def beat_forever(
    bus: EventBus,
    agents: Mapping[str, SupervisedAgent],
    clock: Clock,
    process: str,
    every_s: float = HEARTBEAT_S,
) -> None:
    """Publish the hosted agents' heartbeats every ``every_s`` seconds until cancelled."""
    while True:
        for beat in heartbeats(agents, process, clock.now()):
            await bus.publish(beat)
        await asyncio.sleep(every_s)


@dataclass
class AgentBoard:
    """The latest heartbeat of each agent running in another process."""

    clock: Clock
    stale_after_s: float = 3 * HEARTBEAT_S
    beats: dict[str, dict[str, AgentHeartbeat]] = field(default_factory=dict)

    async def record(self, event: Event) -> None:
        """Bus handler: remember ``event`` if it is a heartbeat."""
        if isinstance(event, AgentHeartbeat):
            self.beats.setdefault(event.agent, {})[event.process] = event

    def status(self, agent: str) -> AgentStatus | None:
        """``agent`` summed over its processes (running if any beat is fresh); None if unheard."""
        beats = self.beats.get(agent)
        if not beats:
            return None
        now = self.clock.now()
        fresh = [
            beat for beat in beats.values() if (now - beat.ts).total_seconds() <= self.stale_after_s
        ]
        return AgentStatus(
            name=agent,
            enabled=True,
            running=any(beat.running for beat in fresh),
            failed=bool(fresh) and all(beat.failed for beat in fresh),
            handled=sum(beat.handled for beat in beats.values()),
            errors=sum(beat.errors for beat in beats.values()),
            restarts=sum(beat.restarts for beat in beats.values()),
            last_event_at=max(beat.ts for beat in beats.values()),
        )

    def processes(self, agent: str) -> list[str]:
        """The processes ``agent`` was heard from with a fresh beat."""
        now = self.clock.now()
        return sorted(
            process
            for process, beat in self.beats.get(agent, {}).items()
            if (now - beat.ts).total_seconds() <= self.stale_after_s
        )
