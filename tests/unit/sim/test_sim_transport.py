"""The in-process transport answers the live simulator's read routes like ``sim serve``.

The demo's Monitor runs the service's own probes and scrapes through it, so: the same routes
and status codes, the dependency pages, and a probe latency that is the simulated one (wall
time under virtual time would be noise).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from selfheal_ml.clock import SIMULATED_ELAPSED_S, SimClock
from selfheal_ml.collectors import HttpProbe, collect_all
from selfheal_ml.ports import simulator_collectors
from selfheal_ml.sim import FaultKind, PlatformSimulator
from selfheal_ml.sim.transport import SimulatorTransport

START = datetime(2026, 1, 5, 12, tzinfo=UTC)


async def get(transport: httpx.AsyncBaseTransport, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.local") as client:
        return await client.get(path)


@pytest.fixture
def simulator() -> PlatformSimulator:
    simulator = PlatformSimulator(seed=8, start=START)
    simulator.advance(120.0)
    return simulator


@pytest.mark.parametrize(
    ("path", "status"),
    [("/p/tackle.io/health", 200), ("/p/tackle.io/metrics", 200), ("/deps/redis/metrics", 200),
     ("/metrics", 200), ("/p/nowhere/health", 404), ("/deps/mysql/metrics", 404),
     ("/sim/faults", 404), ("/p/tackle.io/other", 404)],
)  # fmt: skip
async def test_routes_answer_like_the_live_server(
    simulator: PlatformSimulator, path: str, status: int
) -> None:
    response = await get(SimulatorTransport(simulator), path)
    assert response.status_code == status


async def test_pages_are_the_simulators_own(simulator: PlatformSimulator) -> None:
    transport = SimulatorTransport(simulator)
    assert (await get(transport, "/p/leadsite.ai/metrics")).text == simulator.prometheus_text(
        "leadsite.ai"
    )
    assert (await get(transport, "/deps/postgres/metrics")).text == simulator.dependency_text(
        "postgres"
    )


async def test_a_crashed_platform_answers_503(simulator: PlatformSimulator) -> None:
    simulator.inject(FaultKind.SERVICE_CRASH, "leadsite.ai")
    simulator.advance(60.0)
    response = await get(SimulatorTransport(simulator), "/p/leadsite.ai/health")
    assert response.status_code == 503
    assert response.json() == {"platform": "leadsite.ai", "status": "down"}


async def test_with_a_clock_the_simulator_catches_up_first(simulator: PlatformSimulator) -> None:
    clock = SimClock(simulator.now())
    clock.advance(300.0)
    await get(SimulatorTransport(simulator, clock), "/p/tackle.io/health")
    assert simulator.now() == clock.now()


async def test_the_probe_reports_the_simulated_latency(simulator: PlatformSimulator) -> None:
    transport = SimulatorTransport(simulator)
    response = await get(transport, "/p/videosite.io/health")
    expected_ms = simulator.response_time_ms("videosite.io")
    assert response.extensions[SIMULATED_ELAPSED_S] * 1000.0 == pytest.approx(expected_ms)
    probe = HttpProbe("videosite.io", "http://sim.local/p/videosite.io/health", 5.0,
                      "videosite.io", transport)  # fmt: skip
    points = {p.series.split("{")[0]: p.value for p in await probe.collect(simulator.now())}
    assert points["probe_latency_ms"] == pytest.approx(expected_ms)
    assert 1.0 < points["probe_latency_ms"] < 2000.0


async def test_slow_queries_slow_the_probe(simulator: PlatformSimulator) -> None:
    before = simulator.response_time_ms("leadsite.ai")
    simulator.inject(FaultKind.SLOW_QUERY, "leadsite.ai")
    simulator.advance(300.0)
    assert simulator.response_time_ms("leadsite.ai") > 1.5 * before


async def test_simulator_collectors_see_each_dependency_once(
    simulator: PlatformSimulator,
) -> None:
    collectors = simulator_collectors(simulator)
    await collect_all(collectors, simulator.now(), timeout_s=5.0)
    simulator.advance(60.0)
    result = await collect_all(collectors, simulator.now(), timeout_s=5.0)
    assert result.errors == {}
    by_name: dict[str, list[dict[str, str]]] = {}
    for point in result.points:
        by_name.setdefault(point.series.split("{")[0], []).append(point.labels)
    assert by_name["db_slow_queries_per_s"] == [{"dependency": "postgres", "target": "postgres"}]
    assert by_name["cache_hit_ratio"] == [{"dependency": "redis", "target": "redis"}]
    assert len(by_name["probe_latency_ms"]) == len(simulator.platform_names)
    durations = [p.value for p in result.points if p.series.startswith("scrape_duration_ms")]
    assert durations and set(durations) == {0.0}  # a page renders instantly in virtual time
