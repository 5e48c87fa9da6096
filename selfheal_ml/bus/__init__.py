"""The event bus: how agents talk.

``EventBus`` (``bus/base.py``) is the protocol; ``InMemoryEventBus`` (``bus/memory.py``) is the
default, in-process asyncio implementation with one bounded queue per subscriber, so a slow or
failing subscriber never blocks or breaks the others.
"""

from selfheal_ml.bus.base import BusStats, EventBus, Handler, Selector, SubscriberStats
from selfheal_ml.bus.memory import InMemoryEventBus

__all__ = ["BusStats", "EventBus", "Handler", "InMemoryEventBus", "Selector", "SubscriberStats"]
