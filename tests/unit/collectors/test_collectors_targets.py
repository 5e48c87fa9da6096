"""HTTP probe (MockTransport), host readings, unreachable DB/cache, and the TargetSpec factory."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import httpx
import pytest

from selfheal_ml.collectors import (
    HostCollector,
    HttpProbe,
    PostgresCollector,
    PrometheusScrape,
    RedisCollector,
    TargetSpec,
    build_collectors,
    collect_all,
    collection_timeout_s,
)
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def by_series(points: list[MetricPoint]) -> dict[str, float]:
    return {point.series: point.value for point in points}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
    return port


@pytest.mark.parametrize(("status", "up"), [(200, 1.0), (302, 1.0), (404, 0.0), (500, 0.0)])
async def test_http_probe_status_decides_up(status: int, up: float) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    probe = HttpProbe("shop", "http://shop.test/health", 1.0, "tackle.io", transport)
    values = by_series(await probe.collect(NOW))
    labels = 'platform="tackle.io",target="shop"'
    assert values[f"probe_up{{{labels}}}"] == up
    assert values[f"probe_status_code{{{labels}}}"] == float(status)
    assert values[f"probe_latency_ms{{{labels}}}"] >= 0.0
    assert (probe.last_error is None) == (up == 1.0)


async def test_http_probe_connect_error_is_up_zero() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    probe = HttpProbe("shop", "http://shop.test/health", 1.0, transport=httpx.MockTransport(refuse))
    assert by_series(await probe.collect(NOW)) == {'probe_up{target="shop"}': 0.0}
    assert probe.last_error == "ConnectError: All connection attempts failed"


async def test_http_probe_slow_target_times_out_as_up_zero() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5.0)
        return httpx.Response(200)

    probe = HttpProbe("shop", "http://shop.test/health", 0.1, transport=httpx.MockTransport(slow))
    points = await asyncio.wait_for(probe.collect(NOW), timeout=2.0)
    assert by_series(points) == {'probe_up{target="shop"}': 0.0}
    assert probe.last_error == "timed out after 0.1 s"


async def test_postgres_unreachable_is_db_up_zero_without_exception() -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"
    collector = PostgresCollector("main-db", dsn, timeout_s=2.0)
    assert by_series(await collector.collect(NOW)) == {'db_up{target="main-db"}': 0.0}
    assert collector.last_error is not None
    assert "refused" in collector.last_error.lower()


async def test_redis_unreachable_is_cache_up_zero_without_exception() -> None:
    collector = RedisCollector("cache", f"redis://127.0.0.1:{closed_port()}/0", timeout_s=2.0)
    assert by_series(await collector.collect(NOW)) == {'cache_up{target="cache"}': 0.0}
    assert collector.last_error is not None
    assert "ConnectionError" in collector.last_error


async def test_host_collector_reads_percentages_in_range(tmp_path: object) -> None:
    collector = HostCollector(disk_path=str(tmp_path), hostname="box", platform="leadsite.io")
    points = await collector.collect(NOW)
    values = {point.series.split("{")[0]: point.value for point in points}
    assert set(values) == {
        "host_cpu_percent",
        "host_memory_percent",
        "host_disk_percent",
        "process_cpu_percent",
        "process_rss_bytes",
    }
    for name in ("host_cpu_percent", "host_memory_percent", "host_disk_percent"):
        assert 0.0 <= values[name] <= 100.0
    assert values["process_rss_bytes"] > 1_000_000  # a Python process is megabytes
    assert {point.labels["host"] for point in points} == {"box"}
    assert collector.name == "host:box"


def test_build_collectors_maps_each_kind() -> None:
    specs = [
        TargetSpec(kind="http", name="leadsite.ai", url="http://127.0.0.1:8001/health"),
        TargetSpec(kind="prometheus", name="leadsite.ai", url="http://127.0.0.1:8001/metrics"),
        TargetSpec(kind="postgres", name="db", url="postgresql://postgres@127.0.0.1/postgres"),
        TargetSpec(kind="redis", name="cache", url="redis://127.0.0.1:6379/0", timeout_s=2.5),
        TargetSpec(kind="host", name="box"),
    ]
    collectors = build_collectors(specs)
    kinds = [type(collector) for collector in collectors]
    assert kinds == [HttpProbe, PrometheusScrape, PostgresCollector, RedisCollector, HostCollector]
    redis_collector = collectors[3]
    assert isinstance(redis_collector, RedisCollector)
    assert redis_collector.timeout_s == 2.5
    assert collection_timeout_s(specs) == 6.0  # largest target timeout (5 s) + 1 s margin


def test_build_collectors_refuses_duplicates() -> None:
    spec = TargetSpec(kind="redis", name="cache", url="redis://127.0.0.1:6379/0")
    with pytest.raises(ValidationError) as caught:
        build_collectors([spec, spec])
    assert caught.value.field == "targets"


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"kind": "ftp", "name": "x", "url": "ftp://x"}, "kind"),
        ({"kind": "http", "name": " ", "url": "http://x"}, "name"),
        ({"kind": "http", "name": "x", "url": "http://x", "timeout_s": 0.0}, "timeout_s"),
        ({"kind": "postgres", "name": "x", "url": "redis://x"}, "url"),
        ({"kind": "prometheus", "name": "x", "url": ""}, "url"),
    ],
)
def test_target_spec_validation_names_the_field(fields: dict[str, object], bad_field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TargetSpec(**fields)  # type: ignore[arg-type]
    assert caught.value.field == bad_field


async def test_host_collector_with_missing_path_fails_alone_in_a_round(tmp_path: object) -> None:
    broken = HostCollector(disk_path=f"{tmp_path}/does-not-exist", hostname="broken")
    healthy = HostCollector(disk_path=str(tmp_path), hostname="healthy")
    result = await collect_all([broken, healthy], NOW, timeout_s=5.0)
    assert result.errors["host:broken"].startswith("FileNotFoundError")
    values = by_series(result.points)
    assert values['collector_up{collector="host:broken"}'] == 0.0
    assert values['collector_up{collector="host:healthy"}'] == 1.0
    assert 'host_disk_percent{host="healthy"}' in values
