"""The fast exposition parser against prometheus_client's, on the simulator's pages (opt-in).

Prints the time per round of the pages the demo scrapes (five platforms, two dependencies)
for both parsers and their ratio; the demo parses such a round 13,000 times.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from selfheal_ml.collectors.exposition_parser import parse_exposition, parse_exposition_full
from selfheal_ml.sim import PlatformSimulator

pytestmark = pytest.mark.benchmark

ROUNDS = 200


def test_fast_parser_speed_ratio() -> None:
    simulator = PlatformSimulator(seed=42, start=datetime(2026, 1, 5, 9, tzinfo=UTC))
    simulator.advance(600.0)
    pages = [simulator.prometheus_text(name) for name in simulator.platform_names]
    pages += [simulator.dependency_text(name) for name in ("postgres", "redis")]
    timings: dict[str, float] = {}
    for label, parse in (("prometheus_client", parse_exposition_full), ("fast", parse_exposition)):
        began = time.perf_counter()
        for _ in range(ROUNDS):
            for page in pages:
                parse(page)
        timings[label] = (time.perf_counter() - began) / ROUNDS * 1000.0
    ratio = timings["prometheus_client"] / timings["fast"]
    print(
        f"\nparse one round ({len(pages)} pages, {sum(map(len, pages))} bytes):"
        f" prometheus_client {timings['prometheus_client']:.2f} ms,"
        f" fast {timings['fast']:.2f} ms, ratio {ratio:.1f}x"
    )
    assert ratio > 2.0
