"""The Repair agent. Executes safe repairs for diagnosed incidents and verifies them.

For now it counts incidents it is handed and executes nothing.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Channel


class RepairAgent(CountingAgent):
    """Repair agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Repair"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Channel.ALERT,)
