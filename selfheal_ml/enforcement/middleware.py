"""``BanMiddleware``: an ASGI middleware that refuses banned client addresses with 403.

Add it to a FastAPI or Starlette app::

    from selfheal_ml.enforcement import BanMiddleware, StreamDecisionSource

    source = StreamDecisionSource("http://127.0.0.1:8000", api_key="<a bouncer key>")
    app.add_middleware(BanMiddleware, source=source, ttl_s=5.0)

Lookups are in memory. The copy of the bans is refreshed when it is older than ``ttl_s``:
the first request waits for the first pull (asynchronously, never blocking the event loop);
later refreshes run in a background task while requests are answered from the copy. When the
source fails the copy is kept (bans still expire on time) and, before any pull has worked,
requests pass (``fail_open=True``, the default: a dead decision service must not take the
app down) or get 503 (``fail_open=False``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from selfheal_ml.enforcement.cache import BanCache
from selfheal_ml.enforcement.sources import DecisionSource

log = logging.getLogger("selfheal_ml.enforcement")

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def client_address(scope: Scope) -> str:
    """The peer address of the connection (put a trusted proxy's real-IP middleware first
    when the app sits behind one)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


class BanMiddleware:
    """Refuses requests from banned addresses (module docstring)."""

    def __init__(
        self,
        app: Any,
        source: DecisionSource,
        *,
        ttl_s: float = 5.0,
        fail_open: bool = True,
        clock: Callable[[], float] = time.monotonic,
        address_of: Callable[[Scope], str] = client_address,
    ) -> None:
        self.app = app
        self.source = source
        self.cache = BanCache(ttl_s)
        self.fail_open = fail_open
        self.clock = clock
        self.address_of = address_of
        self.refused = 0
        self.failures = 0
        self._lock = asyncio.Lock()
        self._refresh: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self._keep_fresh()
        if self.cache.refreshed_at is None and not self.fail_open:
            await self._answer(scope, send, 503, b"ban decisions unavailable")
            return
        if self.cache.is_banned(self.address_of(scope), self.clock()):
            self.refused += 1
            await self._answer(scope, send, 403, b"Forbidden")
            return
        await self.app(scope, receive, send)

    async def _keep_fresh(self) -> None:
        now = self.clock()
        if not self.cache.stale(now):
            return
        if self.cache.refreshed_at is None:
            async with self._lock:  # first pull: every early request waits for it
                if self.cache.stale(self.clock()):
                    await self._pull()
            return
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._pull())

    async def _pull(self) -> None:
        try:
            update = await self.source.pull()
        except Exception as exc:  # any source failure: keep the copy, count, try again later
            self.failures += 1
            log.warning("ban decisions not refreshed: %s: %s", type(exc).__name__, exc)
            return
        self.cache.apply(update, self.clock())

    @staticmethod
    async def _answer(scope: Scope, send: Send, status: int, body: bytes) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
