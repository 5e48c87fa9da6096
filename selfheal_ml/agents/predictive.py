"""The Predictive agent. Scores every metric point online for anomalies and forecasts capacity.

For now it counts the metric batches it receives.
"""

from __future__ import annotations

from typing import ClassVar

from selfheal_ml.agents.base import Selector
from selfheal_ml.agents.counting import CountingAgent
from selfheal_ml.events import Channel


class PredictiveAgent(CountingAgent):
    """Predictive agent: handles its events and reports how many it has seen."""

    name: ClassVar[str] = "Predictive"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Channel.METRIC,)
