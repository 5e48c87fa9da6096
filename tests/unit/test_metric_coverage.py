"""Every metric a rule, a symptom family or the diagnosis reads is produced by a collector.

Issue 12: in live mode the rules read names that only the in-process simulator observation
produced, so a brute force or a crash raised no alert. This test fails when a rule (or a
hypothesis' symptom metric) reads a metric that neither the demo path (the simulator
observation), nor the live path (the Prometheus scrape of the simulator, with its canonical
derivation), nor a dedicated collector produces.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import httpx
import pytest

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.collectors import HttpProbe, postgres, redis_cache
from selfheal_ml.collectors.canonical import derive_canonical
from selfheal_ml.collectors.prometheus_scrape import ExpositionConverter, parse_exposition
from selfheal_ml.diagnosis.observations import ALERT_METRICS
from selfheal_ml.monitoring.thresholds import metrics_read
from selfheal_ml.repair.incident import METRIC_FAMILIES
from selfheal_ml.sim import PlatformSimulator

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

#: Metrics only a real PostgreSQL or Redis target yields (checked against the real servers in
#: tests/integration/test_collectors_postgres_redis.py); here: the collector still names them.
DEDICATED = {
    mc.DB_SLOW_QUERIES: postgres,
    mc.DB_CONNECTIONS_EXHAUSTED: postgres,
    mc.CACHE_UP: redis_cache,
}


def names(points: list[object]) -> set[str]:
    return {str(getattr(point, "series", "")).split("{")[0] for point in points}


def demo_names() -> set[str]:
    simulator = PlatformSimulator(seed=1, start=START)
    simulator.advance(60.0)
    return names(list(simulator.observe()))


def live_names() -> set[str]:
    simulator = PlatformSimulator(seed=1, start=START)
    converter = ExpositionConverter({"target": "all"})
    found: set[str] = set()
    for _ in range(2):
        simulator.advance(60.0)
        raw = converter.convert(parse_exposition(simulator.prometheus_text()), simulator.now())
        found = names(list(derive_canonical(raw)))
    return found


async def probe_names() -> set[str]:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
    probe = HttpProbe("shop", "http://shop.test/health", 1.0, "shop", transport)
    return names(list(await probe.collect(START)))


def read_metrics() -> set[str]:
    return set(metrics_read()) | set(METRIC_FAMILIES) | {m for m, _ in ALERT_METRICS.values()}


async def test_every_metric_read_is_produced_by_some_collector() -> None:
    produced = demo_names() | live_names() | await probe_names() | set(DEDICATED)
    missing = sorted(read_metrics() - produced)
    assert not missing, f"read by rules/diagnosis, produced by no collector: {missing}"


@pytest.mark.parametrize("metric", sorted(DEDICATED))
def test_dedicated_collectors_still_name_their_metrics(metric: str) -> None:
    assert f'"{metric}"' in inspect.getsource(DEDICATED[metric])


def test_live_path_produces_whatever_the_demo_path_produces_for_the_rules() -> None:
    demo_read = read_metrics() & demo_names()
    assert demo_read <= live_names(), sorted(demo_read - live_names())
