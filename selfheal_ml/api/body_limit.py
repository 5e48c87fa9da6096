"""Request bodies: at most ``max_bytes``, fully arrived within ``timeout_s``.

An ASGI middleware, so the limit holds while the body streams in, before any route buffers
it:

- a declared ``Content-Length`` above the limit is answered 413 without reading a byte; a
  declared body within it streams to the route as it arrives (the server enforces the length);
- a chunked body (``Transfer-Encoding: chunked``, no length) is read here first, counted as it
  arrives, and held in a spool that keeps at most :data:`SPOOL_IN_MEMORY_BYTES` in memory and
  the rest in a temporary file (:func:`read_within`). Past the limit, reading stops and the
  answer is 413 at once; the spool is dropped, and the route never ran, so nothing was parsed.
  A body within the limit reaches the route as one message. A route that buffered the chunks
  itself would hold up to the limit in memory per request (and its parse more), so a few
  concurrent oversized bodies would cost a few times the limit (issue 18: 4 x 51 MB chunked
  bodies grew RSS by 102 MB that way, against 0.4 MB for declared ones).

A client that sends its body too slowly gets 408 once ``timeout_s`` has passed since the
request began, so it cannot hold a connection and a worker open indefinitely.

Routes with a limit of their own (``own_limit_paths``: remote write counts its refusals) get
only the deadline here and read with :func:`read_within` themselves.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_END = {"type": "http.request", "body": b"", "more_body": False}
_UNLIMITED = 2**62  # for routes with a streamed limit of their own
#: The part of a chunked body kept in memory while it is read; the rest goes to a temp file.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


class BodyTooLargeError(Exception):
    """The body went past ``limit`` bytes while it streamed in (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body: more than the limit of {limit} bytes")
        self.limit = limit


class BodyTooSlowError(Exception):
    """The body did not arrive within the deadline (HTTP 408)."""


class ClientGoneError(Exception):
    """The client disconnected before its body ended: nobody to answer."""


async def read_within(
    chunks: AsyncIterator[bytes], limit: int, in_memory: int = SPOOL_IN_MEMORY_BYTES
) -> bytes:
    """The whole body of ``chunks`` if it is at most ``limit`` bytes, else
    :class:`BodyTooLargeError` as soon as it passes the limit (the rest is never read).

    While reading, at most about ``in_memory`` bytes are held in memory and the rest in a
    temporary file, so a body refused at the limit has cost disk, not memory. A caller that
    knows the length (a declared ``Content-Length`` within the limit) passes it as
    ``in_memory`` to keep the body in memory.
    """
    with tempfile.SpooledTemporaryFile(max_size=in_memory) as spool:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(limit)
            spool.write(chunk)
        spool.seek(0)
        return spool.read()


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


def too_slow(timeout_s: float) -> dict[str, Any]:
    """The 408 body."""
    return {"error": f"body: not received within {timeout_s:g} s", "field": "body"}


async def _arriving(receive: Receive, deadline: float) -> AsyncIterator[bytes]:
    """The body chunks of a request until its last one, each awaited until ``deadline``."""
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.0))
        except TimeoutError as error:
            raise BodyTooSlowError from error
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


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
            self.failure = (408, too_slow(self.timeout_s))
            return dict(_END)
        if message["type"] == "http.request":
            self.complete = not message.get("more_body", False)
            self.seen += len(message.get("body", b""))
            if self.seen > self.max_bytes:
                self.failure = (413, too_large(self.max_bytes, f"more than {self.max_bytes}"))
                return dict(_END)
        return message


class _Replay:
    """A receive that gives the app a body already read, then waits on the real one."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body: bytes | None = body
        self.receive = receive

    async def __call__(self) -> Message:
        if self.body is None:
            return await self.receive()
        message = {"type": "http.request", "body": self.body, "more_body": False}
        self.body = None
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
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if not own_limit and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, too_large(self.max_bytes, declared), {})
            return
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if chunked and not own_limit:
            await self._read_then_call(scope, receive, send)
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

    async def _read_then_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A chunked body: read it within the limits first (see the module doc)."""
        deadline = time.monotonic() + self.timeout_s
        try:
            body = await read_within(_arriving(receive, deadline), self.max_bytes)
        except BodyTooLargeError:
            await send_json(send, 413, too_large(self.max_bytes, f"more than {self.max_bytes}"), {})
            return
        except BodyTooSlowError:
            await send_json(send, 408, too_slow(self.timeout_s), {})
            return
        except ClientGoneError:
            return
        await self.app(scope, _Replay(body, receive), send)
