"""Redis executor: delete keys by pattern (``SCAN`` + ``UNLINK``, never ``KEYS``) and
``MEMORY PURGE``, on one short-lived ``redis.asyncio`` client per action.

Actions and their ``params``:

- ``redis_delete_pattern``: keys matching ``pattern`` (glob, e.g. ``"session:stale:*"``) are
  found with ``SCAN MATCH`` in steps of ``scan_count`` and unlinked in batches, at most
  ``max_keys`` per action. A pattern with no literal character (``"*"``, ``"?*"``) would
  empty the database and is refused.
- ``redis_memory_purge``: ``MEMORY PURGE`` (asks the allocator to return dirty pages).

Everything must finish within ``timeout_s``; a timeout, a refused connection or an error reply
is ``ok=False``.

>>> is_catch_all("*"), is_catch_all("cache:*")
(True, False)
"""

from __future__ import annotations

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from selfheal_ml.actions.base import ExecutionResult, RepairRequest, text_param
from selfheal_ml.actions.operations import OperationsExecutor

_WILDCARDS = frozenset("*?[]^-\\")


def is_catch_all(pattern: str) -> bool:
    """Whether ``pattern`` has no literal character, so it could match every key."""
    return all(character in _WILDCARDS for character in pattern)


class RedisExecutor(OperationsExecutor):
    """Runs the Redis actions above against ``url`` (see module doc)."""

    expected_errors = (RedisError, OSError)

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout_s: float = 10.0,
        scan_count: int = 500,
        max_keys: int = 100_000,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.scan_count = scan_count
        self.max_keys = max_keys
        operations = {
            "redis_delete_pattern": self._delete_pattern,
            "redis_memory_purge": self._memory_purge,
        }
        super().__init__(name, operations, timeout_s=timeout_s)

    def _client(self) -> redis_asyncio.Redis:
        return redis_asyncio.Redis.from_url(
            self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
        )

    async def _delete_pattern(self, request: RepairRequest) -> ExecutionResult:
        pattern = text_param(request, "pattern")
        if is_catch_all(pattern):
            raise ValueError(f"params.pattern: {pattern!r} would match every key; refused")
        deleted, capped = 0, False
        async with self._client() as client:
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=self.scan_count):
                batch.append(key)
                if len(batch) >= self.scan_count:
                    deleted += int(await client.unlink(*batch))
                    batch = []
                if deleted + len(batch) >= self.max_keys:
                    capped = True
                    break
            if batch:
                deleted += int(await client.unlink(*batch))
        note = f" (stopped at the cap of {self.max_keys})" if capped else ""
        return ExecutionResult(
            ok=True,
            detail=f"deleted {deleted} key(s) matching {pattern}{note}",
            data={"deleted": deleted, "capped": capped},
        )

    async def _memory_purge(self, request: RepairRequest) -> ExecutionResult:
        async with self._client() as client:
            await client.memory_purge()
        return ExecutionResult(ok=True, detail=f"MEMORY PURGE on {request.target}")
