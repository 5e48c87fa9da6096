"""The Prometheus text exposition parses with the official parser and behaves like a real one."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.exposition import BUCKETS_S

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _families(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


@pytest.fixture
def sim() -> PlatformSimulator:
    simulator = PlatformSimulator(seed=6, start=START)
    simulator.advance(1800.0)
    return simulator


def test_platform_text_parses_with_help_and_types(sim: PlatformSimulator) -> None:
    text = sim.prometheus_text("clientcontact.io")
    families = _families(text)
    kinds = {name: family.type for name, family in families.items()}  # type: ignore[attr-defined]
    assert kinds["http_requests"] == "counter"
    assert kinds["http_request_duration_seconds"] == "histogram"
    assert kinds["auth_failures"] == "counter"
    assert kinds["host_cpu_percent"] == "gauge"
    assert not any(name.startswith(("db_", "cache_", "redis_")) for name in kinds)
    assert text.count("# HELP ") == text.count("# TYPE ") == len(families)
    platforms = {labels["platform"] for labels, _ in _samples(text, "http_requests_total")}
    assert platforms == {"clientcontact.io"}


def test_all_platforms_text_has_each_family_once(sim: PlatformSimulator) -> None:
    text = sim.prometheus_text()
    type_lines = [line for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(type_lines) == len(set(type_lines))
    platforms = {labels["platform"] for labels, _ in _samples(text, "host_memory_percent")}
    assert platforms == set(sim.platform_names)


def test_histogram_is_cumulative_and_consistent_with_request_counters(
    sim: PlatformSimulator,
) -> None:
    text = sim.prometheus_text("leadsite.ai")
    requests = _samples(text, "http_requests_total")
    buckets = _samples(text, "http_request_duration_seconds_bucket")
    counts = dict(
        (labels["endpoint"], value)
        for labels, value in _samples(text, "http_request_duration_seconds_count")
    )
    for endpoint, count in counts.items():
        series = [
            (float(labels["le"]), value)
            for labels, value in buckets
            if labels["endpoint"] == endpoint
        ]
        series.sort()
        assert [bound for bound, _ in series[:-1]] == list(BUCKETS_S)
        assert math.isinf(series[-1][0])
        values = [value for _, value in series]
        assert values == sorted(values)
        assert values[-1] == pytest.approx(count)
        total = sum(value for labels, value in requests if labels["endpoint"] == endpoint)
        assert total == pytest.approx(count)
        assert total > 1000.0  # half an hour of traffic


def test_counters_only_grow_until_a_restart_resets_that_platform(sim: PlatformSimulator) -> None:
    def totals(platform: str) -> float:
        text = sim.prometheus_text(platform)
        return sum(value for _, value in _samples(text, "http_requests_total"))

    before = {name: totals(name) for name in sim.platform_names}
    sim.advance(300.0)
    after = {name: totals(name) for name in sim.platform_names}
    assert all(after[name] > before[name] for name in before)
    sim.apply_action("tackle.io", "restart_service")
    assert totals("tackle.io") == 0.0
    assert totals("leadsite.ai") == after["leadsite.ai"]


def test_gauges_match_the_observed_points(sim: PlatformSimulator) -> None:
    observed = {point.series: point.value for point in sim.observe()}
    text = sim.prometheus_text("videosite.io")
    ((labels, value),) = _samples(text, "host_disk_percent")
    key = f'host_disk_percent{{host="{labels["host"]}",platform="videosite.io"}}'
    assert value == pytest.approx(observed[key])
    ((labels, hit),) = _samples(sim.dependency_text("redis"), "cache_hit_ratio")
    assert labels == {"dependency": "redis"}
    assert hit == pytest.approx(observed['cache_hit_ratio{dependency="redis"}'])


def test_each_dependency_has_its_own_page_and_the_whole_page_has_both(
    sim: PlatformSimulator,
) -> None:
    postgres = _families(sim.dependency_text("postgres"))
    assert set(postgres) == {
        "db_up", "db_query_duration_ms", "db_connections_in_use", "db_connections_max",
        "db_slow_queries_per_s",
    }  # fmt: skip
    assert set(_families(sim.dependency_text("redis"))) == {
        "cache_hit_ratio", "redis_memory_used_bytes",
    }  # fmt: skip
    assert {"db_up", "cache_hit_ratio", "http_requests"} <= set(_families(sim.prometheus_text()))
    with pytest.raises(ValidationError) as caught:
        sim.dependency_text("mysql")
    assert caught.value.field == "dependency"


def test_unknown_platform_is_rejected(sim: PlatformSimulator) -> None:
    with pytest.raises(ValidationError) as caught:
        sim.prometheus_text("example.com")
    assert caught.value.field == "platform"
