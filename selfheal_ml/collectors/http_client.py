"""One long-lived, pooled HTTP client per target, sharing one SSL context across all targets.

Building an ``httpx.AsyncClient`` creates an SSL context and loads the CA bundle, even for an
``http://`` URL: tens of milliseconds of CPU on the event loop, twenty times a GET on a reused
client. A client per probe made that 75 % of a monitoring round's CPU, and at 110-120 targets
the client creations alone passed the collection deadline. :class:`PooledClient` builds its
client once (on first use) with the SSL context of :func:`shared_ssl_context`, built once per
process, and keeps its connections alive between rounds.

A monitor sends the same GET every round, so the request is built once per client and sent
again (:meth:`PooledClient.get`): ``build_request`` parses the URL and merges headers, cookies
and timeout every time, half of the client's own cost per request. A reused request carries
no cookies the target set (a probe, like Prometheus' scraper, keeps no session), so the client
does not read the cookies of responses either (:class:`SessionlessClient`): httpx parses every
response's ``Set-Cookie`` through ``http.cookiejar``, a tenth of a probe's CPU, to keep
cookies nothing sends.

A kept-alive connection can be closed by the server just as the next request goes out (its idle
timeout, uvicorn's 5 s, met the round's interval: live at 5 s checks, probes failed with
"Server disconnected without sending a response" and raised ``TargetDown`` on healthy
targets). A GET is idempotent, so like Go's HTTP client :meth:`PooledClient.get` sends it once
more, on a fresh connection, when the connection broke before any response
(:data:`STALE_CONNECTION_ERRORS`); a target that is really down fails the second try too.

A client is bound to the event loop it was built in (its pooled connections are), so a
collector used from another loop (a test's second ``asyncio.run``) gets a fresh client there;
the old one is dropped unclosed, its loop being gone.

>>> import asyncio, httpx
>>> client = PooledClient(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
>>> async def twice() -> list[int]:
...     codes = [(await client.get("http://a.test/", {}, 1.0)).status_code for _ in range(2)]
...     await client.aclose()
...     return codes
>>> asyncio.run(twice())
[204, 204]
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpx

#: What a kept-alive connection the server closed looks like on the next request.
STALE_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)

#: Keep-alive connections per target: a probe or scrape issues one request at a time.
POOL_LIMITS = httpx.Limits(max_connections=2, max_keepalive_connections=1, keepalive_expiry=120.0)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's one client SSL context (CA bundle loaded once, on first use)."""
    return httpx.create_ssl_context()


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing: responses' ``Set-Cookie`` headers are not read."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing (see :class:`SessionlessClient`)."""


class SessionlessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose cookie store stays empty: a monitor keeps no session.

    >>> import asyncio
    >>> reply = httpx.Response(200, headers={"set-cookie": "session=1"})
    >>> client = SessionlessClient(transport=httpx.MockTransport(lambda request: reply))
    >>> async def cookies_after_a_get() -> int:
    ...     await client.get("http://a.test/")
    ...     return len(client.cookies)
    >>> asyncio.run(cookies_after_a_get())
    0
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        del cookies  # nothing is kept


class PooledClient:
    """A lazily built ``httpx.AsyncClient`` reused across rounds (see module doc).

    ``transport`` (a test's ``MockTransport``, the simulator's in-process transport) belongs
    to the caller: :meth:`aclose` does not close it.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._requests: dict[tuple[str, tuple[tuple[str, str], ...], float], httpx.Request] = {}

    def client(self) -> httpx.AsyncClient:
        """The client of the running event loop, built on first use in that loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = SessionlessClient(
                transport=self.transport, verify=shared_ssl_context(), limits=POOL_LIMITS
            )
            self._loop = loop
            self._requests = {}  # built by the previous client
        return self._client

    async def get(self, url: str, headers: dict[str, str], timeout_s: float) -> httpx.Response:
        """GET ``url`` with a per-request timeout, on a pooled connection when one is open;
        the request is built on the first call and sent again on later ones (module doc)."""
        client = self.client()
        key = (url, tuple(headers.items()), timeout_s)
        request = self._requests.get(key)
        if request is None:
            request = client.build_request("GET", url, headers=headers, timeout=timeout_s)
            self._requests[key] = request
        try:
            return await client.send(request)
        except STALE_CONNECTION_ERRORS:
            return await client.send(request)  # once more, on a fresh connection (module doc)

    async def aclose(self) -> None:
        """Close the pooled connections (not an injected transport)."""
        client, self._client, self._loop = self._client, None, None
        if client is not None and self.transport is None:
            await client.aclose()
