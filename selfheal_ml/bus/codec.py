"""Events to bytes and back, for buses that leave the process.

An event travels as two fields: ``type`` (its class name) and ``data`` (its JSON). The class
comes back from an explicit registry of every :class:`~selfheal_ml.events.Event` subclass
(walked once, on first use), never from a dynamic import of a name read off the wire.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.events import Tick
>>> tick = Tick(ts=datetime(2026, 1, 1, tzinfo=UTC), source="scheduler", kind="collect")
>>> decode_event(encode_event(tick)) == tick
True
"""

from __future__ import annotations

import functools

from selfheal_ml.events import Channel, Event


class UnknownEventTypeError(ValueError):
    """A message names an event class this process does not know (an older or newer peer)."""


@functools.cache
def event_types() -> dict[str, type[Event]]:
    """Every event class by name, subclasses of subclasses included."""
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = [Event]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def encode_event(event: Event) -> dict[str, str]:
    """The stream fields of ``event``."""
    return {"type": type(event).__name__, "data": event.model_dump_json()}


def decode_event(fields: dict[bytes, bytes] | dict[str, str]) -> Event:
    """The event a message's fields carry; ``UnknownEventTypeError`` for an unknown class."""
    named = {_text(key): _text(value) for key, value in fields.items()}
    cls = event_types().get(named.get("type", ""))
    if cls is None:
        raise UnknownEventTypeError(
            f"type: expected an event class name, got {named.get('type')!r}"
        )
    return cls.model_validate_json(named["data"])


def channels_of(selector: Channel | type[Event]) -> tuple[Channel, ...]:
    """The channels whose streams can carry events matching ``selector``.

    An event type with a fixed channel lives on that channel alone; ``Event`` itself (or a base
    without a fixed channel) may arrive on any.

    >>> from selfheal_ml.events import MetricsCollected
    >>> channels_of(MetricsCollected)
    (<Channel.METRIC: 'system.metric'>,)
    >>> len(channels_of(Event)) == len(Channel)
    True
    """
    if isinstance(selector, Channel):
        return (selector,)
    default = selector.model_fields["channel"].default
    if isinstance(default, Channel):
        return (default,)
    return tuple(Channel)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
