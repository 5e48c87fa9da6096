"""The event bus: how agents talk.

``EventBus`` (``bus/base.py``) is the protocol; ``InMemoryEventBus`` (``bus/memory.py``) is the
default, in-process asyncio implementation with one bounded queue per subscriber, so a slow or
failing subscriber never blocks or breaks the others. ``RedisStreamsEventBus``
(``bus/redis_streams.py``) carries the same events between processes and machines on Redis
Streams; ``build_bus`` (``bus/selection.py``) picks one from ``SELFHEAL_BUS``.
"""

from typing import TYPE_CHECKING

from selfheal_ml.lazy_exports import LazyExports

if TYPE_CHECKING:
    from selfheal_ml.bus.base import BusStats, EventBus, Handler, Selector, SubscriberStats
    from selfheal_ml.bus.memory import InMemoryEventBus
    from selfheal_ml.bus.redis_streams import RedisStreamsEventBus
    from selfheal_ml.bus.selection import build_bus

_EXPORTS = LazyExports(
    __name__,
    {
        "selfheal_ml.bus.base": (
            "BusStats",
            "EventBus",
            "Handler",
            "Selector",
            "SubscriberStats",
        ),
        "selfheal_ml.bus.memory": ("InMemoryEventBus",),
        "selfheal_ml.bus.redis_streams": ("RedisStreamsEventBus",),
        "selfheal_ml.bus.selection": ("build_bus",),
    },
)


def __getattr__(name: str) -> object:
    return _EXPORTS.attribute(name)


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
