"""Benchmark: the Redis Streams bus against the in-memory bus on the same workload.

Each bus carries ``EVENTS`` ``MetricsCollected`` events of ``POINTS`` points each from one
publisher to two subscribers (each must see every event, like the API's AlertManager and an
agent). Timed: from the first publish until ``drain`` returns (every event handled by both).
Printed: events/s of each bus, the ratio memory/redis, and the load average (the machine is
shared). Asserted: every subscriber saw every event on both buses; no ratio is asserted, it is
a measurement of what leaving the process costs.

Run: .venv/bin/pytest tests/benchmarks/test_bus_throughput.py -m benchmark -s -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from selfheal_ml.bus import EventBus, InMemoryEventBus, RedisStreamsEventBus
from selfheal_ml.events import Event, MetricPoint, MetricsCollected

pytestmark = pytest.mark.benchmark

REDIS_URL = os.environ.get("SELFHEAL_TEST_REDIS", "redis://127.0.0.1:6379/0")
EVENTS = 5000
POINTS = 20
START = datetime(2026, 1, 5, tzinfo=UTC)


def workload() -> list[MetricsCollected]:
    return [
        MetricsCollected(
            ts=START + timedelta(seconds=5 * step),
            source="bench",
            points=tuple(
                MetricPoint(
                    series=f'http_latency_ms{{platform="p{index}"}}',
                    ts=START + timedelta(seconds=5 * step),
                    value=float(step % 97 + index),
                )
                for index in range(POINTS)
            ),
        )
        for step in range(EVENTS)
    ]


async def events_per_s(bus: EventBus, events: list[MetricsCollected]) -> float:
    counts = [0, 0]

    def counter(slot: int):  # type: ignore[no-untyped-def]
        async def count(event: Event) -> None:
            counts[slot] += 1

        return count

    bus.subscribe(MetricsCollected, counter(0), name="first")
    bus.subscribe(MetricsCollected, counter(1), name="second")
    await bus.start()
    started = time.perf_counter()
    for event in events:
        await bus.publish(event)
    await bus.drain()
    elapsed = time.perf_counter() - started
    await bus.stop()
    assert counts == [len(events), len(events)]
    return len(events) / elapsed


def test_redis_bus_against_memory_bus() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    events = workload()
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    try:
        memory = asyncio.run(events_per_s(InMemoryEventBus(queue_size=EVENTS), events))
        remote = asyncio.run(events_per_s(RedisStreamsEventBus(REDIS_URL, prefix=prefix), events))
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\nbus throughput, {EVENTS} events x {POINTS} points, 2 subscribers "
        f"(load average {load}):\n"
        f"  memory {memory:,.0f} events/s, redis {remote:,.0f} events/s, "
        f"memory/redis {memory / remote:.1f}x"
    )
