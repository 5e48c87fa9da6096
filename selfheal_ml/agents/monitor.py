"""The Monitor agent. Collects metrics from the configured targets and reports health.

Without collectors configured it only counts the collection ticks it receives.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Tick


class MonitorAgent(CountingAgent):
    """Monitor agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Monitor"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick,)
