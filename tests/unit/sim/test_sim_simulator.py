"""Normal behaviour of the simulator: determinism, seasonality, no symptoms, API contracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint, series_key
from selfheal_ml.sim import DEFAULT_PLATFORMS, FaultKind, PlatformSimulator

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def _day_of_values(seed: int, start: datetime = MONDAY, step_s: float = 300.0) -> np.ndarray:
    sim = PlatformSimulator(seed=seed, start=start)
    rows = []
    for _ in range(int(86400 / step_s)):
        sim.advance(step_s)
        rows.append(sim.values())
    return np.vstack(rows)


def _platform_rps(sim: PlatformSimulator, platform: str) -> float:
    return sum(
        point.value
        for point in sim.observe()
        if point.series.startswith("http_requests_per_s") and point.labels["platform"] == platform
    )


def test_same_seed_same_points_and_different_seed_differs() -> None:
    first = PlatformSimulator(seed=11, start=MONDAY)
    second = PlatformSimulator(seed=11, start=MONDAY)
    other = PlatformSimulator(seed=12, start=MONDAY)
    for sim in (first, second, other):
        sim.inject("memory_leak", "leadsite.ai")
        sim.advance(7200.0)
    assert first.observe() == second.observe()
    assert first.prometheus_text() == second.prometheus_text()
    assert first.observe() != other.observe()


def test_one_long_advance_equals_many_short_ones() -> None:
    once = PlatformSimulator(seed=4, start=MONDAY)
    often = PlatformSimulator(seed=4, start=MONDAY)
    once.advance(3600.0)
    for _ in range(120):
        often.advance(30.0)
    assert once.now() == often.now() == MONDAY + timedelta(hours=1)
    np.testing.assert_allclose(once.values(), often.values())


def test_observe_is_a_pure_snapshot() -> None:
    sim = PlatformSimulator(seed=4, start=MONDAY)
    sim.advance(90.0)
    assert sim.observe() == sim.observe()


def test_points_carry_series_key_of_name_and_labels_stamped_now() -> None:
    sim = PlatformSimulator(seed=4, start=MONDAY)
    sim.advance(45.0)
    points = sim.observe()
    assert len({point.series for point in points}) == len(points)
    for point in points:
        MetricPoint.model_validate(point.model_dump())  # a valid point, not just a constructed one
        assert point.series == series_key(point.series.split("{")[0], point.labels)
        assert point.ts == MONDAY + timedelta(seconds=45)
        assert np.isfinite(point.value)
    names = {point.series.split("{")[0] for point in points}
    assert {"http_latency_p95_ms", "db_connections_in_use", "host_disk_percent"} <= names
    events = {point.labels["event"] for point in points if "event" in point.labels}
    assert {"leads_generated", "publishes", "conversations", "deals_created"} <= events


def test_daily_seasonality_night_is_quieter_than_afternoon() -> None:
    sim = PlatformSimulator(seed=8, start=MONDAY)
    sim.advance(4 * 3600.0)
    night = {p.name: _platform_rps(sim, p.name) for p in DEFAULT_PLATFORMS}
    sim.advance(12 * 3600.0)
    afternoon = {p.name: _platform_rps(sim, p.name) for p in DEFAULT_PLATFORMS}
    for name in night:
        assert afternoon[name] > 3.0 * night[name]


def test_weekly_seasonality_weekend_is_quieter() -> None:
    weekday = PlatformSimulator(seed=8, start=datetime(2026, 1, 9, 16, tzinfo=UTC))  # Friday
    weekend = PlatformSimulator(seed=8, start=datetime(2026, 1, 10, 16, tzinfo=UTC))  # Saturday
    ratio = _platform_rps(weekend, "tackle.io") / _platform_rps(weekday, "tackle.io")
    assert 0.5 < ratio < 0.8


def test_normal_traffic_is_noisy_but_shows_no_fault_symptoms() -> None:
    sim = PlatformSimulator(seed=21, start=MONDAY)
    keys = sim.catalogue.keys
    rows = _day_of_values(21)
    column = {key: rows[:, index] for index, key in enumerate(keys)}

    def named(prefix: str) -> list[np.ndarray]:
        return [values for key, values in column.items() if key.startswith(prefix)]

    assert all(np.all(values == 0.0) for values in named("http_5xx_per_s"))
    assert max(float(values.max()) for values in named("http_latency_p95_ms")) < 1000.0
    assert max(float(values.max()) for values in named("host_cpu_percent")) < 80.0
    assert max(float(values.max()) for values in named("host_memory_percent")) < 80.0
    assert min(float(values.min()) for values in named("cache_hit_ratio")) > 0.85
    assert all(np.all(values == 1.0) for values in named("db_up"))
    assert all(np.std(np.diff(values)) > 0.0 for values in named("http_requests_per_s"))


def test_every_platform_is_healthy_all_day_without_faults() -> None:
    sim = PlatformSimulator(seed=2, start=MONDAY)
    for _ in range(48):
        sim.advance(1800.0)
        assert {sim.health(name) for name in sim.platform_names} == {"healthy"}
    assert sim.faults() == []


def test_benign_config_changes_and_campaigns_happen_over_days() -> None:
    sim = PlatformSimulator(seed=13, start=MONDAY)
    sim.advance(3 * 86400.0)
    changes = sim.config_changes()
    assert changes and all(MONDAY < change.ts <= sim.now() for change in changes)
    assert changes == sorted(changes, key=lambda change: change.ts)
    for campaign in sim.campaigns():
        assert campaign.start < campaign.end and 1.3 <= campaign.multiplier <= 1.8


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        PlatformSimulator(seed=0, start=datetime(2026, 1, 5))
    assert caught.value.field == "start"
    sim = PlatformSimulator(seed=0, start=MONDAY)
    for seconds in (-1.0, float("nan")):
        with pytest.raises(ValidationError) as caught:
            sim.advance(seconds)
        assert caught.value.field == "seconds"
    with pytest.raises(ValidationError) as caught:
        sim.health("example.com")
    assert caught.value.field == "platform"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_stay_in_range_even_with_every_fault_at_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sim = PlatformSimulator(seed=seed, start=MONDAY)
    for kind in FaultKind:
        platform = str(rng.choice(sim.platform_names))
        sim.inject(kind, platform, severity=float(rng.uniform(0.1, 1.0)))
    _, values = sim.advance_recording(6 * 3600.0)
    assert np.isfinite(values).all()
    assert (values >= 0.0).all()
    for index, name in enumerate(sim.catalogue.names):
        if name.endswith("_ratio"):
            assert values[:, index].max() <= 1.0, name
        if name.endswith("_percent"):
            assert values[:, index].max() <= 100.0, name
    p50 = [i for i, key in enumerate(sim.catalogue.keys) if key.startswith("http_latency_p50")]
    p99 = [i for i, key in enumerate(sim.catalogue.keys) if key.startswith("http_latency_p99")]
    assert (values[:, p50] <= values[:, p99]).all()


def test_a_week_of_normal_traffic_with_campaigns_stays_within_normal_bounds() -> None:
    sim = PlatformSimulator(seed=0, start=MONDAY)
    _, values = sim.advance_recording(7 * 86400.0)
    assert sim.campaigns(), "seed 0 has campaigns in its first week"
    names = np.array(sim.catalogue.names)
    assert values[:, names == "http_5xx_per_s"].max() == 0.0
    assert values[:, names == "http_latency_p95_ms"].max() < 1000.0
    assert values[:, names == "host_cpu_percent"].max() < 80.0
    assert values[:, names == "db_connections_in_use"].max() < 60.0
    rps = values[:, names == "http_requests_per_s"].sum(axis=1)
    hours = np.arange(rps.size) * 30.0 / 3600.0
    campaign_peak = max(campaign.multiplier for campaign in sim.campaigns())
    assert rps.max() / np.median(rps) < 2.0 * campaign_peak  # spikes, but no surge
    weekday = rps[(hours % 24 > 14) & (hours % 24 < 18) & (hours < 120)].mean()
    weekend = rps[(hours % 24 > 14) & (hours % 24 < 18) & (hours >= 120)].mean()
    assert 0.5 < weekend / weekday < 0.8


def _exposed(sim: PlatformSimulator) -> np.ndarray:
    return np.array(
        [
            sample.value
            for family in text_string_to_metric_families(sim.prometheus_text())
            for sample in family.samples
        ]
    )


@settings(max_examples=20, deadline=None)
@given(
    chunks=st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=8),
    duration_steps=st.integers(min_value=1, max_value=200),
)
def test_any_partition_on_the_step_grid_gives_the_same_run(
    chunks: list[int], duration_steps: int
) -> None:
    pieces = PlatformSimulator(seed=3, start=MONDAY)
    whole = PlatformSimulator(seed=3, start=MONDAY)
    for sim in (pieces, whole):
        sim.inject("memory_leak", "leadsite.io", duration_s=30.0 * duration_steps)
        sim.apply_action("tackle.io", "clear_cache")  # a 10-minute blip: another event
    for steps in chunks:
        pieces.advance(30.0 * steps)
    whole.advance(30.0 * sum(chunks))
    np.testing.assert_allclose(pieces.values(), whole.values(), rtol=1e-12)
    np.testing.assert_allclose(_exposed(pieces), _exposed(whole), rtol=1e-9)
    assert pieces.faults() == whole.faults()
    assert pieces.config_changes() == whole.config_changes()
    assert pieces.campaigns() == whole.campaigns()
