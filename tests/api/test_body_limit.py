"""Body limits while the body streams: declared and chunked bodies, spooled reads, deadline."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from selfheal_ml.api.body_limit import BodyLimitMiddleware, BodyTooLargeError, read_within
from tests.api.conftest import AUTH

LIMIT = 10_000


async def _pieces(count: int, piece: bytes, taken: list[int]) -> AsyncIterator[bytes]:
    for _ in range(count):
        taken.append(len(piece))
        yield piece


def test_read_within_returns_a_body_within_the_limit() -> None:
    taken: list[int] = []
    body = asyncio.run(read_within(_pieces(4, b"ab" * 100, taken), 800, in_memory=100))
    assert body == b"ab" * 400


def test_read_within_stops_reading_at_the_limit() -> None:
    taken: list[int] = []
    with pytest.raises(BodyTooLargeError):
        asyncio.run(read_within(_pieces(100, b"x" * 1000, taken), 5_500))
    assert sum(taken) == 6_000  # the chunk that crossed the limit, never the rest


def test_read_within_keeps_a_refused_body_out_of_memory() -> None:
    """20 MB in 64 KiB chunks against a 10 MB limit: the spool holds about 1 MiB in memory."""
    piece = b"y" * 65_536
    taken: list[int] = []
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLargeError):
            asyncio.run(read_within(_pieces(320, piece, taken), 10_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(taken) > 10_000_000
    assert peak < 3 * 1024 * 1024


def _echo_app(timeout_s: float = 30.0) -> tuple[Starlette, list[int]]:
    """An app whose one route answers the length of the body it read."""
    reached: list[int] = []

    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        reached.append(len(body))
        return JSONResponse({"length": len(body), "head": body[:8].decode()})

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT, timeout_s=timeout_s)
    return app, reached


def _chunks(count: int, size: int) -> Iterator[bytes]:
    for index in range(count):
        yield str(index % 10).encode() * size


def test_a_chunked_body_within_the_limit_reaches_the_route_whole() -> None:
    app, reached = _echo_app()
    with TestClient(app) as client:
        response = client.post("/echo", content=_chunks(9, 1000))
    assert response.status_code == 200
    assert response.json() == {"length": 9000, "head": "0" * 8}
    assert reached == [9000]


def test_a_chunked_body_over_the_limit_is_413_before_the_route_runs() -> None:
    app, reached = _echo_app()
    with TestClient(app) as client:
        response = client.post("/echo", content=_chunks(50, 1000))
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert reached == []


def test_a_declared_body_over_the_limit_is_413_and_within_it_streams_through() -> None:
    app, reached = _echo_app()
    with TestClient(app) as client:
        assert client.post("/echo", content=b"z" * (LIMIT + 1)).status_code == 413
        assert client.post("/echo", content=b"z" * LIMIT).json()["length"] == LIMIT
    assert reached == [LIMIT]


def test_a_chunked_body_that_arrives_too_slowly_is_408() -> None:
    """Driven over ASGI directly: the test client sends a whole body at once."""
    app, reached = _echo_app(timeout_s=0.2)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        await asyncio.sleep(0.5)
        return {"type": "http.request", "body": b"a" * 10, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 408
    assert reached == []


REMOTE_WRITE = {**AUTH, "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}


def test_a_chunked_remote_write_over_its_limit_is_413_and_counted(client: TestClient) -> None:
    limit = client.app.state.remote_write.decoder.max_body_bytes  # type: ignore[attr-defined]
    piece = b"\x00" * 65_536
    pieces = (piece for _ in range(limit // len(piece) + 2))
    response = client.post("/api/v1/write", content=pieces, headers=REMOTE_WRITE)
    assert response.status_code == 413
    assert 'selfheal_remote_write_requests_total{outcome="too_large"} 1.0' in (
        client.get("/metrics").text
    )
