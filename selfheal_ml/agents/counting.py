"""An agent that handles its events by counting them, per event type.

The starting point of each agent before its real behaviour lands: it starts, reports health
and handles what it is given without pretending to do more.
"""

from __future__ import annotations

from collections import Counter

from selfheal_ml.agents.base import Agent, AgentContext
from selfheal_ml.events import Event, Tick


class CountingAgent(Agent):
    """Counts the events it handles, by type (ticks by kind)."""

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        self.seen: Counter[str] = Counter()

    async def handle(self, event: Event) -> list[Event]:
        key = f"Tick:{event.kind}" if isinstance(event, Tick) else type(event).__name__
        self.seen[key] += 1
        return []
