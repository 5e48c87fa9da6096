"""Probes and scrapes against the live simulator app, in process (ASGI transport, SimClock).

The same HTTP requests the Monitor sends to ``selfheal-ml sim serve``, without a socket: a
crash injected through ``POST /sim/faults`` must turn the platform's probe down while the
other platform stays up, and ``restart_service`` must bring it back with sane rates.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from selfheal_ml.clock import SimClock
from selfheal_ml.collectors import (
    CollectionResult,
    Collector,
    HttpProbe,
    PrometheusScrape,
    collect_all,
    simulator_targets,
)
from selfheal_ml.monitoring import ThresholdLimits, evaluate_thresholds
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.server import create_sim_app

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BASE_URL = "http://sim.test"
PLATFORMS = ("leadsite.ai", "tackle.io")


def collectors_for(transport: httpx.AsyncBaseTransport) -> list[Collector]:
    collectors: list[Collector] = []
    for spec in simulator_targets(BASE_URL, PLATFORMS, timeout_s=5.0):
        if spec.kind == "http":
            collectors.append(
                HttpProbe(spec.name, spec.url, spec.timeout_s, spec.platform, transport)
            )
        else:
            collectors.append(
                PrometheusScrape(
                    spec.name, spec.url, spec.timeout_s, spec.platform, transport=transport
                )
            )
    return collectors


def value(result: CollectionResult, name: str, platform: str) -> float:
    series = f'{name}{{platform="{platform}",target="{platform}"}}'
    matches = [point.value for point in result.points if point.series == series]
    assert len(matches) == 1, f"expected one {series}, found {len(matches)}"
    return matches[0]


def rates(result: CollectionResult, platform: str) -> list[float]:
    return [
        point.value
        for point in result.points
        if point.series.startswith("http_requests_per_s{")
        and point.labels.get("platform") == platform
    ]


async def test_crash_and_restart_seen_through_probe_and_scrape() -> None:
    clock = SimClock(START)
    transport = httpx.ASGITransport(
        app=create_sim_app(PlatformSimulator(seed=7, start=START), clock)
    )
    collectors = collectors_for(transport)

    async def round_after(seconds: float) -> CollectionResult:
        clock.advance(seconds)
        return await collect_all(collectors, clock.now(), timeout_s=10.0)

    await round_after(30.0)
    healthy = await round_after(30.0)
    assert healthy.errors == {}
    for platform in PLATFORMS:
        assert value(healthy, "probe_up", platform) == 1.0
        assert value(healthy, "scrape_up", platform) == 1.0
        assert rates(healthy, platform) and min(rates(healthy, platform)) >= 0.0

    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        injected = await client.post(
            "/sim/faults", json={"platform": "leadsite.ai", "kind": "service_crash"}
        )
        assert injected.status_code == 201
        crashed = await round_after(30.0)
        assert value(crashed, "probe_up", "leadsite.ai") == 0.0
        assert value(crashed, "probe_status_code", "leadsite.ai") == 503.0
        assert crashed.errors == {"http:leadsite.ai": "HTTP 503"}
        assert value(crashed, "probe_up", "tackle.io") == 1.0
        alerts = evaluate_thresholds(crashed.points, ThresholdLimits())
        erroring = {f.labels["platform"] for f in alerts if f.alertname == "HighErrorRate"}
        assert erroring == {"leadsite.ai"}

        repaired = await client.post(
            "/sim/actions", json={"platform": "leadsite.ai", "action": "restart_service"}
        )
        assert repaired.status_code == 200
    await round_after(60.0)
    recovered = await round_after(60.0)
    assert value(recovered, "probe_up", "leadsite.ai") == 1.0
    assert min(rates(recovered, "leadsite.ai")) >= 0.0
