"""The Diagnostic agent. Groups anomalies and alerts into incidents and ranks root causes.

For now it counts the alerts it sees; grouping and ranking come with the diagnosis issue.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Channel


class DiagnosticAgent(CountingAgent):
    """Diagnostic agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Diagnostic"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Channel.ALERT,)
