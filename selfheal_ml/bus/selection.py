"""Which bus a process runs on, from one address: ``memory`` or ``redis://host:port/db``.

The in-memory bus is the embedded default (one process). A Redis address puts every process
that names it on the same streams: the API, agent processes, scorers.

>>> type(build_bus("memory")).__name__
'InMemoryEventBus'
>>> type(build_bus("redis://127.0.0.1:6379/0", prefix="doc")).__name__
'RedisStreamsEventBus'
"""

from __future__ import annotations

from selfheal_ml.bus.base import EventBus
from selfheal_ml.bus.memory import InMemoryEventBus

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis_address(address: str) -> bool:
    """Whether ``address`` names a Redis server."""
    return address.startswith(REDIS_SCHEMES)


def build_bus(
    address: str,
    *,
    queue_size: int = 10_000,
    prefix: str = "selfheal",
    consumer: str | None = None,
    group_tag: str = "",
) -> EventBus:
    """The bus at ``address``; ``ValueError`` names what was expected otherwise."""
    if address == "memory":
        return InMemoryEventBus(queue_size=queue_size)
    if is_redis_address(address):
        from selfheal_ml.bus.redis_streams import RedisStreamsEventBus  # the redis client

        return RedisStreamsEventBus(address, prefix=prefix, consumer=consumer, group_tag=group_tag)
    raise ValueError(f"bus: expected 'memory' or a redis:// URL, got {address!r}")
