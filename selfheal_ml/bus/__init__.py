"""The event bus: how agents talk.

``EventBus`` (``bus/base.py``) is the protocol; ``InMemoryEventBus`` (``bus/memory.py``) is the
default, in-process asyncio implementation with one bounded queue per subscriber, so a slow or
failing subscriber never blocks or breaks the others. ``RedisStreamsEventBus``
(``bus/redis_streams.py``) carries the same events between processes and machines on Redis
Streams; ``build_bus`` (``bus/selection.py``) picks one from ``SELFHEAL_BUS``.
"""

from selfheal_ml.bus.base import BusStats, EventBus, Handler, Selector, SubscriberStats
from selfheal_ml.bus.memory import InMemoryEventBus
from selfheal_ml.bus.redis_streams import RedisStreamsEventBus
from selfheal_ml.bus.selection import build_bus

__all__ = [
    "BusStats",
    "EventBus",
    "Handler",
    "InMemoryEventBus",
    "RedisStreamsEventBus",
    "Selector",
    "SubscriberStats",
    "build_bus",
]
