"""The EventBus protocol and its counters.

A subscription selects events by channel (``Channel.ALERT``) or by event type
(``AnomalyDetected``; subclasses match too). Each subscriber sees each matching event exactly
once, in publish order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from selfheal_ml.events import Channel, Event

Handler = Callable[[Event], Awaitable[None]]
Selector = Channel | type[Event]


@dataclass
class SubscriberStats:
    """Counters of one subscriber."""

    name: str
    selector: str
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    queued: int = 0


@dataclass
class BusStats:
    """Counters of the whole bus: published, and per subscriber delivered/dropped/failed."""

    published: int = 0
    subscribers: list[SubscriberStats] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(sub.delivered for sub in self.subscribers)

    @property
    def dropped(self) -> int:
        return sum(sub.dropped for sub in self.subscribers)

    @property
    def failed(self) -> int:
        return sum(sub.failed for sub in self.subscribers)


def matches(selector: Selector, event: Event) -> bool:
    """Whether ``event`` is selected by a channel or an event type."""
    if isinstance(selector, Channel):
        return event.channel == selector
    return isinstance(event, selector)


def describe(selector: Selector) -> str:
    """A readable name for a selector."""
    return selector.value if isinstance(selector, Channel) else selector.__name__


class EventBus(Protocol):
    """Publish events; subscribe handlers by channel or event type."""

    async def publish(self, event: Event) -> None:
        """Hand ``event`` to every matching subscriber without waiting for them."""
        ...

    def subscribe(self, selector: Selector, handler: Handler, *, name: str) -> None:
        """Deliver every event matching ``selector`` to ``handler``."""
        ...

    async def start(self) -> None:
        """Start delivering."""
        ...

    async def drain(self) -> None:
        """Wait until every queued event has been handled (cascades included)."""
        ...

    async def stop(self) -> None:
        """Stop delivering; queued events are dropped and counted."""
        ...

    def stats(self) -> BusStats:
        """A snapshot of the counters."""
        ...
