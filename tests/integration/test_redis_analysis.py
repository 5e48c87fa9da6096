"""The Performance agent's Redis analysis against a real Redis: a full cache that evicts keys
and misses, found from ``INFO`` windows, and nothing on a healthy cache.

A private ``redis-server`` (``maxmemory`` 4 MB, ``allkeys-lru``) is started on a free port for
the test, so the shared server's settings are never touched; skipped, with the reason, when
the binary is absent.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from selfheal_ml.collectors.redis_analysis import RedisAnalyser
from selfheal_ml.performance import PerformanceThresholds

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def small_redis() -> Iterator[str]:
    """The URL of a private Redis with 4 MB of memory (stopped afterwards)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    arguments += ["--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"]
    server = subprocess.Popen([binary, *arguments], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10.0
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("the private redis-server did not start within 10 s")
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10.0)


def fill_and_miss(url: str, keys: int, value_bytes: int) -> None:
    """Write ``keys`` values (more than fit: keys are evicted), then read them all back."""
    client = redis.Redis.from_url(url)
    payload = b"x" * value_bytes
    with client.pipeline(transaction=False) as pipeline:
        for number in range(keys):
            pipeline.set(f"item:{number}", payload)
        pipeline.execute()
    with client.pipeline(transaction=False) as pipeline:
        for number in range(keys):
            pipeline.get(f"item:{number}")
        pipeline.execute()


async def test_a_full_cache_is_found_evicting_and_missing(small_redis: str) -> None:
    analyser = RedisAnalyser(small_redis, name="cache", platform="shop")
    baseline = await analyser.round()
    assert baseline.findings == []  # the first round has no window
    fill_and_miss(small_redis, keys=4000, value_bytes=4096)  # 16 MB into 4 MB
    result = await analyser.round()
    kinds = {finding.kind: finding for finding in result.findings}
    assert set(kinds) == {"cache_evictions", "cache_inefficiency"}, result.findings
    assert kinds["cache_evictions"].evidence["evicted_keys"] >= 2000
    assert kinds["cache_inefficiency"].evidence["hit_ratio"] < 0.5
    assert result.queries == 2  # INFO stats + INFO memory


async def test_a_healthy_cache_gives_nothing_and_fragmentation_needs_its_floor(
    small_redis: str,
) -> None:
    analyser = RedisAnalyser(small_redis, name="cache")
    await analyser.round()
    fill_and_miss(small_redis, keys=200, value_bytes=100)  # fits: every read hits
    client = redis.Redis.from_url(small_redis)
    for _ in range(5):
        client.mget([f"item:{number}" for number in range(200)])
    result = await analyser.round()
    assert result.findings == []
    ratio = float(client.info("memory")["mem_fragmentation_ratio"])
    # a tiny instance's ratio means nothing: only past min_fragmented_bytes is it judged
    loose = RedisAnalyser(
        small_redis, thresholds=PerformanceThresholds(min_fragmented_bytes=0,
                                                      fragmentation_ratio=ratio * 0.5),
    )  # fmt: skip
    assert [finding.kind for finding in (await loose.round()).findings] == ["memory_fragmentation"]


async def test_an_unreachable_redis_is_none_not_an_error() -> None:
    analyser = RedisAnalyser(f"redis://127.0.0.1:{free_port()}/0", timeout_s=1.0)
    assert await analyser.try_round() is None
