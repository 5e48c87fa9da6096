"""A bulk Prometheus exporter for the scale benchmark: many targets, many gauges, one process.

``python bulk_exporter.py PORT TARGETS SERIES`` serves ``/metrics/<target>`` (``SERIES`` gauges
each, values drifting a little every scrape) and ``/storm`` (from then on every gauge of every
target reads twenty times its usual value: an anomaly storm over all series). It runs in a
process of its own, so its CPU is not counted as the service's. Plain asyncio streams, HTTP/1.1
keep-alive: a few microseconds a page, not a framework's milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import sys


class Exporter:
    """The pages and the storm switch."""

    def __init__(self, targets: int, series: int) -> None:
        self.targets = targets
        self.series = series
        self.storm = False
        self.scrapes = 0
        self.random = random.Random(0)

    def page(self, target: int) -> bytes:
        self.scrapes += 1
        factor = 20.0 if self.storm else 1.0
        lines = ["# TYPE bench_gauge gauge"]
        for index in range(self.series):
            value = factor * (100.0 + index + self.random.gauss(0.0, 1.0))
            lines.append(f'bench_gauge{{series="s{index}",target_index="{target}"}} {value:.3f}')
        return ("\n".join(lines) + "\n").encode()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path == "/storm":
                    self.storm, body = True, b"storm\n"
                elif path.startswith("/metrics/"):
                    body = self.page(int(path.rsplit("/", 1)[1]))
                else:
                    body = b"ok\n"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main(port: int, targets: int, series: int) -> None:
    exporter = Exporter(targets, series)
    server = await asyncio.start_server(exporter.serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
