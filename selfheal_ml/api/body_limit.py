"""Request bodies: at most ``max_bytes``, fully arrived within ``timeout_s``.

An ASGI middleware, so the limit holds while the body streams in, before any route buffers
it: a declared ``Content-Length`` above the limit is answered 413 without reading a byte; a
chunked body is counted as it arrives and cut off at the limit (the route sees the body end,
and its answer is replaced by the 413). A client that sends its body too slowly gets 408
once ``timeout_s`` has passed since the request began, so it cannot hold a connection and a
worker open indefinitely.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_END = {"type": "http.request", "body": b"", "more_body": False}
_UNLIMITED = 2**62  # for routes with a streamed limit of their own


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    """Answer a request from middleware with a JSON body."""
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def too_large(limit: int, size: str) -> dict[str, Any]:
    """The 413 body."""
    return {"error": f"body: {size} bytes, at most {limit}", "field": "body"}


class _Guard:
    """Counts one request's body as the route reads it; remembers why it was cut off."""

    def __init__(self, receive: Receive, max_bytes: int, timeout_s: float) -> None:
        self.receive = receive
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.seen = 0
        self.complete = False
        self.failure: tuple[int, dict[str, Any]] | None = None

    async def __call__(self) -> Message:
        if self.failure is not None:  # the route already saw the body end: the client is gone
            return {"type": "http.disconnect"}
        if self.complete:  # after the body, receive only waits for a disconnect
            return await self.receive()
        try:
            message = await asyncio.wait_for(
                self.receive(), max(self.deadline - time.monotonic(), 0.0)
            )
        except TimeoutError:
            problem = f"body: not received within {self.timeout_s:g} s"
            self.failure = (408, {"error": problem, "field": "body"})
            return dict(_END)
        if message["type"] == "http.request":
            self.complete = not message.get("more_body", False)
            self.seen += len(message.get("body", b""))
            if self.seen > self.max_bytes:
                self.failure = (413, too_large(self.max_bytes, f"more than {self.max_bytes}"))
                return dict(_END)
        return message


class BodyLimitMiddleware:
    """Enforces the body size and arrival-time limits on every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout_s: float,
        own_limit_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        # routes that stream-check a limit of their own (and count refusals): only the deadline
        self.own_limit_paths = own_limit_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own_limit = scope["path"] in self.own_limit_paths
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        if not own_limit and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, too_large(self.max_bytes, declared), {})
            return
        guard = _Guard(receive, _UNLIMITED if own_limit else self.max_bytes, self.timeout_s)
        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if guard.failure is None:
                await send(message)
            elif message["type"] == "http.response.start" and not replaced:
                replaced = True
                await send_json(send, guard.failure[0], guard.failure[1], {})

        await self.app(scope, guard, guarded_send)
