"""Detector state checkpoints in Redis: a scorer process that dies resumes warm.

A partitioned scorer (``agents/checkpointed_scoring.py``) saves its bank's snapshot after every
round it scores and before that round's event is acknowledged on the bus. A scorer restarted
after ``kill -9`` loads the snapshot: every acknowledged point is in it, and a round that was
scored but not acknowledged comes back from the bus and is refused point by point as no newer
than the series' last (so nothing is learned twice). The snapshot is a cache with a version
stamp (``DetectorBank.snapshot``); without a usable one the scorer re-warms from history.
"""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as aioredis


class Checkpoint(Protocol):
    """Where a scorer keeps its latest bank snapshot."""

    async def load(self) -> bytes | None:
        """The latest snapshot, or None before the first save."""
        ...

    async def save(self, blob: bytes) -> None:
        """Replace the snapshot with ``blob`` (atomically: a reader sees old or new)."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class RedisCheckpoint:
    """One Redis key per scorer partition (``{prefix}:checkpoint:{name}``)."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._client: aioredis.Redis | None = None

    def _connected(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(self.url)
        return self._client

    async def load(self) -> bytes | None:
        blob = await self._connected().get(self.key)
        return blob if isinstance(blob, bytes) else None

    async def save(self, blob: bytes) -> None:
        await self._connected().set(self.key, blob)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class MemoryCheckpoint:
    """A checkpoint in this process (tests; a scorer on the memory bus needs none)."""

    def __init__(self) -> None:
        self.blob: bytes | None = None
        self.saves = 0

    async def load(self) -> bytes | None:
        return self.blob

    async def save(self, blob: bytes) -> None:
        self.blob = blob
        self.saves += 1

    async def close(self) -> None:
        return None
