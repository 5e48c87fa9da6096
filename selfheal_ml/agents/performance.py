"""The Performance agent.

Looks for optimisation opportunities (slow endpoints, cache misses, hot queries).

For now it counts the optimisation ticks it receives.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Tick


class PerformanceAgent(CountingAgent):
    """Performance agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Performance"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick,)
