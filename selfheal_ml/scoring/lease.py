"""One live owner per scorer partition: a lease in Redis, renewed while the owner lives.

Several processes may be started for the same partition (``agent run Predictive --partition
K/N`` twice, on one machine or two): the first to take the lease scores; the others wait, with
their imports done and their runtime built (a warm standby). When the owner dies (``kill -9``,
a lost machine) its lease expires after ``ttl_s`` and a standby takes it, loads the partition's
checkpoint and re-reads the partition's pending entries (the consumer name belongs to the
partition, not to the process): the partition is scored again within the lease time plus the
checkpoint's load, instead of a whole Python start-up. An owner that fails to renew in time
(it was paused longer than ``ttl_s``) has lost the lease and must stop scoring.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

# renew only a lease we still hold (another owner may have taken an expired one)
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class LeaseLostError(RuntimeError):
    """The lease expired before its owner renewed it: another process may be scoring."""


class PartitionLease:
    """The lease ``key`` held by ``owner`` for ``ttl_s`` seconds at a time."""

    def __init__(self, url: str, key: str, owner: str, ttl_s: float = 2.5) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s: expected > 0, got {ttl_s!r}")
        self.url = url
        self.key = key
        self.owner = owner
        self.ttl_s = ttl_s
        self._client: aioredis.Redis | None = None

    def _connected(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(self.url)
        return self._client

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        taken = await self._connected().set(
            self.key, self.owner, nx=True, px=int(self.ttl_s * 1000)
        )
        return bool(taken)

    async def acquire(self, poll_s: float = 0.2) -> None:
        """Wait until the lease is ours."""
        while not await self.try_acquire():  # noqa: ASYNC110 - polling Redis, not local state
            await asyncio.sleep(poll_s)

    async def renew(self) -> None:
        """Extend the lease; :class:`LeaseLostError` if it is no longer ours."""
        renewed = await self._connected().eval(
            RENEW_SCRIPT, 1, self.key, self.owner, int(self.ttl_s * 1000)
        )
        if not renewed:
            raise LeaseLostError(f"lease {self.key} lost by {self.owner}")

    async def keep(self) -> None:
        """Renew every third of the lease time until cancelled or lost."""
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            await self.renew()

    async def release(self) -> None:
        """Give the lease up now (a clean stop: a standby need not wait for it to expire)."""
        client = self._connected()
        if await client.get(self.key) == self.owner.encode():
            await client.delete(self.key)
        await client.aclose()
        self._client = None
