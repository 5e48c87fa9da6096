"""The scrape conversion against the simulator's own ``/metrics`` page (virtual time).

The simulator knows the true request rates and latency quantiles it exposes as counters and
a histogram, so rates and interpolated quantiles can be checked against ground truth.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from selfheal_ml.collectors.prometheus_scrape import ExpositionConverter, parse_exposition
from selfheal_ml.events import MetricPoint
from selfheal_ml.sim import PlatformSimulator, RepairAction

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday noon: steady daytime traffic
PLATFORM = "leadsite.ai"


def scrape(simulator: PlatformSimulator, converter: ExpositionConverter) -> list[MetricPoint]:
    text = simulator.prometheus_text(PLATFORM)
    return converter.convert(parse_exposition(text), simulator.now())


def advance(simulator: PlatformSimulator, seconds: int) -> None:
    for _ in range(seconds // 10):
        simulator.advance(10)


def named(points: list[MetricPoint], name: str) -> dict[str, MetricPoint]:
    """Points of series ``name`` keyed by endpoint (plus status class when present)."""
    return {
        point.labels["endpoint"] + point.labels.get("status_class", ""): point
        for point in points
        if point.series.startswith(name + "{") and point.labels.get("platform") == PLATFORM
    }


@pytest.mark.parametrize("seed", [3, 11])
def test_rates_and_quantiles_match_the_simulator_truth(seed: int) -> None:
    simulator = PlatformSimulator(seed=seed, start=START)
    converter = ExpositionConverter({})
    advance(simulator, 60)
    scrape(simulator, converter)
    advance(simulator, 60)
    scraped = scrape(simulator, converter)
    truth = simulator.observe()

    true_rates = named(truth, "http_requests_per_s")
    assert true_rates, "the simulator exposes no request rate for the platform"
    counted = named(scraped, "http_request_duration_seconds_count_per_second")
    by_status = named(scraped, "http_requests_per_second")
    for endpoint, true_rate in true_rates.items():
        assert counted[endpoint].value == pytest.approx(true_rate.value, rel=0.10)
        status_sum = sum(by_status[endpoint + status].value for status in ("2xx", "4xx", "5xx"))
        assert status_sum == pytest.approx(counted[endpoint].value, rel=1e-6)

    for quantile, tolerance in (("p50", 1.5), ("p95", 2.0)):
        estimates = named(scraped, f"http_request_duration_seconds_{quantile}")
        for endpoint, true_ms in named(truth, f"http_latency_{quantile}_ms").items():
            ratio = 1000.0 * estimates[endpoint].value / true_ms.value
            assert 1 / tolerance < ratio < tolerance, (quantile, endpoint, ratio)


def test_service_restart_resets_counters_without_negative_rates() -> None:
    simulator = PlatformSimulator(seed=5, start=START)
    converter = ExpositionConverter({})
    advance(simulator, 60)
    scrape(simulator, converter)
    advance(simulator, 60)
    before = named(scrape(simulator, converter), "http_requests_per_second")
    simulator.apply_action(PLATFORM, RepairAction.RESTART_SERVICE)
    advance(simulator, 60)
    after_points = scrape(simulator, converter)

    rates = [point.value for point in after_points if "_per_second" in point.series]
    assert rates
    assert all(math.isfinite(value) and value >= 0.0 for value in rates)
    after = named(after_points, "http_requests_per_second")
    for key, point in before.items():
        if key.endswith("2xx"):
            # Read as "restarted from zero", the rate stays near its level before the restart.
            assert after[key].value == pytest.approx(point.value, rel=0.35)
    assert named(after_points, "http_request_duration_seconds_p95")
