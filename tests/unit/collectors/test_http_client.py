"""Pooled HTTP clients: one client and one kept-alive connection per target across rounds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from selfheal_ml.collectors.http_client import PooledClient, shared_ssl_context
from selfheal_ml.collectors.http_probe import HttpProbe
from selfheal_ml.collectors.prometheus_scrape import PrometheusScrape

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE = b"# TYPE queue gauge\nqueue 3\n"


class KeepAliveServer:
    """A minimal HTTP/1.1 server on a free port that counts the connections it accepts."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/metrics"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(PAGE)}\r\n\r\n".encode()
                writer.write(head + PAGE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_probe_reuses_one_connection_across_rounds() -> None:
    server = KeepAliveServer()
    async with server as url:
        probe = HttpProbe("shop", url)
        for _ in range(5):
            points = await probe.collect(NOW)
            assert {p.series: p.value for p in points}['probe_up{target="shop"}'] == 1.0
        await probe.aclose()
    assert server.requests == 5
    assert server.connections == 1


async def test_scrape_reuses_one_connection_across_rounds() -> None:
    server = KeepAliveServer()
    async with server as url:
        scrape = PrometheusScrape("shop", url)
        for _ in range(3):
            points = await scrape.collect(NOW)
            assert 'queue{target="shop"}' in {point.series for point in points}
        await scrape.aclose()
    assert (server.requests, server.connections) == (3, 1)


async def test_client_is_built_once_per_event_loop() -> None:
    pooled = PooledClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    first = pooled.client()
    await pooled.get("http://a.test/", {}, 1.0)
    assert pooled.client() is first
    await pooled.aclose()
    assert pooled.client() is not first  # closed: the next use builds a new one


def test_a_client_from_another_event_loop_is_replaced() -> None:
    pooled = PooledClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))

    async def client_id() -> int:
        await pooled.get("http://a.test/", {}, 1.0)
        return id(pooled.client())

    first_loop = asyncio.run(client_id())
    client_in_first = pooled._client
    asyncio.run(client_id())
    assert pooled._client is not client_in_first and first_loop == id(client_in_first)


def test_every_client_shares_one_ssl_context() -> None:
    assert shared_ssl_context() is shared_ssl_context()


async def test_the_same_get_is_built_once_and_sent_again() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PAGE)

    pooled = PooledClient(transport=httpx.MockTransport(answer))
    headers = {"User-Agent": "test"}
    bodies = [(await pooled.get("http://a.test/metrics", headers, 2.0)).content for _ in range(3)]
    await pooled.get("http://a.test/health", headers, 2.0)
    assert bodies == [PAGE] * 3
    assert seen[0] is seen[1] is seen[2]  # one request object, sent three times
    assert seen[3].url.path == "/health" and seen[3] is not seen[0]
    assert seen[0].headers["User-Agent"] == "test"
    assert seen[0].extensions["timeout"]["read"] == 2.0


async def test_a_get_on_a_connection_the_server_closed_is_sent_once_more() -> None:
    """The server closed the kept-alive connection as the request went out: one more try."""
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200)

    client = PooledClient(transport=httpx.MockTransport(answer))
    response = await client.get("http://a.test/health", {}, 1.0)
    assert response.status_code == 200 and len(calls) == 2


async def test_a_target_that_keeps_disconnecting_still_fails() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    client = PooledClient(transport=httpx.MockTransport(answer))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("http://a.test/health", {}, 1.0)
