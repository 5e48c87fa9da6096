"""The Learning agent.

Learns which repair works from verified outcomes and retrains the strategy model.

For now it counts the repair outcomes it receives.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Channel


class LearningAgent(CountingAgent):
    """Learning agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Learning"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Channel.REPAIR,)
