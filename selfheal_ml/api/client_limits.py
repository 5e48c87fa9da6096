"""Per-client rate and concurrency limits on the anonymous compute routes.

Scoring, forecasting, scanning a series and matching silences cost CPU; anyone may call
them. Each client address gets a token bucket (``rate_per_s`` refilled, ``burst`` deep) and
at most ``concurrency`` requests in flight; past either, the answer is 429 with a
``Retry-After`` header (whole seconds), before the body is read. Requests with the admin
token are the operator's and are not limited. The buckets of idle clients are forgotten, so
the table stays bounded however many addresses call.

A refusal is sent after ``refusal_delay_s`` (at most the ``Retry-After`` it carries). Clients
that ignore ``Retry-After`` and retry at once otherwise turn the limit into a loop of
refusals: 8 such clients made 73 refusals a second, each a connection accepted, answered and
closed on the event loop (the unread body ends the keep-alive), and that work, not the
compute, was what ``/health`` then waited behind. Waiting costs the loop nothing and caps
each connection at one refusal per delay.

>>> limiter = ClientLimiter(rate_per_s=1.0, burst=2, concurrency=5)
>>> [limiter.admit("10.0.0.1", now=0.0) for _ in range(3)]
[None, None, 1]
>>> limiter.admit("10.0.0.1", now=1.0) is None
True
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from selfheal_ml.api.bearer import token_accepted
from selfheal_ml.api.body_limit import send_json
from selfheal_ml.api.early_auth import authorization_of
from selfheal_ml.api.route_marks import MarkedRoutes

MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float
    in_flight: int = 0


class ClientLimiter:
    """Token buckets and in-flight counts per client (single event loop: no lock needed)."""

    def __init__(self, rate_per_s: float, burst: int, concurrency: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.concurrency = concurrency
        self.buckets: dict[str, _Bucket] = {}
        self.refused = 0

    def admit(self, client: str, now: float) -> int | None:
        """Take one request slot for ``client``: ``None`` when admitted (call
        :meth:`release` when done), else the seconds to wait before retrying."""
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self.buckets[client] = _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate_per_s
        )
        bucket.updated = now
        if bucket.in_flight >= self.concurrency:
            self.refused += 1
            return 1
        if bucket.tokens < 1.0:
            self.refused += 1
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate_per_s))
        bucket.tokens -= 1.0
        bucket.in_flight += 1
        return None

    def release(self, client: str) -> None:
        """The request admitted for ``client`` has finished."""
        bucket = self.buckets.get(client)
        if bucket is not None:
            bucket.in_flight = max(0, bucket.in_flight - 1)

    def _forget_idle(self, now: float) -> None:
        """Drop clients with nothing in flight and a full bucket (they would start full)."""
        full_after_s = self.burst / self.rate_per_s
        for client, bucket in list(self.buckets.items()):
            if bucket.in_flight == 0 and now - bucket.updated >= full_after_s:
                del self.buckets[client]
        if len(self.buckets) >= MAX_CLIENTS:  # still full: drop the longest idle
            oldest = min(self.buckets, key=lambda name: self.buckets[name].updated)
            del self.buckets[oldest]


class ClientLimitMiddleware:
    """Applies a :class:`ClientLimiter` to the compute routes for callers without the token."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: ClientLimiter,
        compute: MarkedRoutes,
        token: SecretStr | None,
        refusal_delay_s: float = 0.0,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.compute = compute
        self.token = token
        self.refusal_delay_s = refusal_delay_s

    def _limited(self, scope: Scope) -> bool:
        if scope["type"] != "http" or not self.compute.matches(scope):
            return False
        return self.token is None or not token_accepted(self.token, authorization_of(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._limited(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait_s = self.limiter.admit(client, time.monotonic())
        if wait_s is not None:
            problem = f"too many requests from {client}: retry after {wait_s} s"
            if self.refusal_delay_s > 0:
                await asyncio.sleep(min(float(wait_s), self.refusal_delay_s))
            await send_json(send, 429, {"error": problem}, {"Retry-After": str(wait_s)})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.release(client)
