"""The Security agent.

Watches request and auth logs for attacks (brute force, injection) and blocks sources.

Until log sources are wired it counts the ticks it is given and emits nothing.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Tick


class SecurityAgent(CountingAgent):
    """Security agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Security"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick,)
