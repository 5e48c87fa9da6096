"""A large page from the network is parsed and converted in the page worker thread, and the
points equal those of the same page converted on the event loop (an injected transport)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import httpx

from selfheal_ml.collectors.prometheus_scrape import OFF_LOOP_MIN_BYTES, PrometheusScrape

START = datetime(2026, 1, 5, tzinfo=UTC)


def page(round_number: int) -> bytes:
    lines = ["# TYPE jobs_total counter", f"jobs_total {100 * round_number}", "# TYPE g gauge"]
    lines += [f'g{{series="s{index}"}} {index + round_number}.5' for index in range(200)]
    return ("\n".join(lines) + "\n").encode()


async def serve_pages(threads: set[str]) -> asyncio.Server:
    served = {"round": 0}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                served["round"] += 1
                body = page(served["round"])
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_large_network_page_is_converted_off_the_loop_with_the_same_points() -> None:
    assert len(page(1)) > OFF_LOOP_MIN_BYTES
    threads: set[str] = set()
    server = await serve_pages(threads)
    port = server.sockets[0].getsockname()[1]
    networked = PrometheusScrape("t", f"http://127.0.0.1:{port}/metrics", platform="p")
    calls = {"round": 0}

    def mock(request: httpx.Request) -> httpx.Response:
        calls["round"] += 1
        return httpx.Response(200, content=page(calls["round"]))

    in_process = PrometheusScrape("t", "http://x/metrics", platform="p",
                                  transport=httpx.MockTransport(mock))  # fmt: skip
    original = networked._convert_page

    def spying(text: str, now: datetime) -> object:
        threads.add(threading.current_thread().name)
        return original(text, now)

    networked._convert_page = spying  # type: ignore[assignment,method-assign]
    try:
        for step in range(2):  # the second round has the counter's rate
            now = START + timedelta(seconds=30 * step)
            over_network = await networked.collect(now)
            inline = await in_process.collect(now)
            keep = [p for p in over_network if not p.series.startswith("scrape_duration_ms")]
            same = [p for p in inline if not p.series.startswith("scrape_duration_ms")]
            assert [(p.series, p.value) for p in keep] == [(p.series, p.value) for p in same]
        assert any(point.series.startswith("jobs_per_second") for point in over_network)
        assert threads and all(name.startswith("scrape-pages") for name in threads)
    finally:
        await networked.aclose()
        server.close()
        await server.wait_closed()
