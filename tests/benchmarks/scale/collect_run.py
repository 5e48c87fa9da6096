"""One Monitor collection round alone: CPU and wall time of ``collect_all`` over many targets.

``python collect_run.py URL TARGETS ROUNDS CONCURRENCY DEADLINE_S`` scrapes ``TARGETS``
Prometheus pages at ``URL/metrics/<i>`` (``bulk_exporter.py`` in another process) through
the service's own ``PrometheusScrape`` and ``collect_all``: two warm-up rounds (first
connections, counters), then ``ROUNDS`` measured ones. CPU is ``time.process_time`` (all
threads of this process), so other load on the machine does not count; wall time does, and
is what a deadline sees. Prints one line; issue 20's second pass used it to find where a
250-target round's CPU goes without the rest of the service around it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime


async def main(url: str, targets: int, rounds: int, concurrency: int, deadline_s: float) -> str:
    from selfheal_ml.collectors.base import collect_all
    from selfheal_ml.collectors.prometheus_scrape import PrometheusScrape

    scrapes = [
        PrometheusScrape(f"t{index}", f"{url}/metrics/{index}", 5.0, f"platform-{index}")
        for index in range(targets)
    ]
    for _ in range(2):
        await collect_all(scrapes, datetime.now(UTC), 30.0, concurrency)
    cpu_s = wall_s = 0.0
    errors: dict[str, int] = {}
    points = 0
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        result = await collect_all(scrapes, datetime.now(UTC), deadline_s, concurrency)
        cpu_s += time.process_time() - cpu
        wall_s += time.perf_counter() - wall
        points = len(result.points)
        for error in result.errors.values():
            errors[error] = errors.get(error, 0) + 1
    for scrape in scrapes:
        await scrape.aclose()
    return (
        f"{targets} targets, {points} points: CPU {cpu_s / rounds:.3f} s a round, wall"
        f" {wall_s / rounds:.2f} s, errors {errors or 0}, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    url, targets, rounds, concurrency, deadline = sys.argv[1:6]
    print(asyncio.run(main(url, int(targets), int(rounds), int(concurrency), float(deadline))))
