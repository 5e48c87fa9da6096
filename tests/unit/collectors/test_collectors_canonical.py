"""Canonical series derived from scraped points, and the live scrape of the simulator seen
next to its in-process observation (the two paths must name and label things alike)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfheal_ml.collectors.base import metric_point
from selfheal_ml.collectors.canonical import derive_canonical, status_class
from selfheal_ml.collectors.factory import SIMULATED_DEPENDENCIES
from selfheal_ml.collectors.prometheus_scrape import ExpositionConverter, parse_exposition
from selfheal_ml.events import MetricPoint
from selfheal_ml.sim import FaultKind, PlatformSimulator

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def point(name: str, value: float, **labels: str) -> MetricPoint:
    return metric_point(name, labels, value, NOW)


def by_series(points: list[MetricPoint]) -> dict[str, float]:
    return {p.series: p.value for p in points}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200", "2xx"), ("503", "5xx"), ("5xx", "5xx"), ("4XX", "4xx"), ("ok", None), ("", None)],
)
def test_status_class(text: str, expected: str | None) -> None:
    assert status_class(text) == expected


def test_status_classes_become_rate_ratio_and_5xx_rate_per_label_set() -> None:
    raw = [
        point("http_requests_per_second", 8.0, endpoint="/a", status_class="2xx"),
        point("http_requests_per_second", 1.0, endpoint="/a", status_class="4xx"),
        point("http_requests_per_second", 1.0, endpoint="/a", status_class="5xx"),
        point("http_requests_per_second", 5.0, endpoint="/b", status_class="2xx"),
    ]
    values = by_series(derive_canonical(raw))
    assert values['http_requests_per_s{endpoint="/a"}'] == 10.0
    assert values['http_5xx_per_s{endpoint="/a"}'] == 1.0
    assert values['http_error_ratio{endpoint="/a",status_class="5xx"}'] == pytest.approx(0.1)
    assert values['http_error_ratio{endpoint="/a",status_class="4xx"}'] == pytest.approx(0.1)
    assert values['http_error_ratio{endpoint="/b",status_class="5xx"}'] == 0.0
    assert not any(series.startswith("http_requests_per_second") for series in values)


def test_status_codes_are_read_as_classes() -> None:
    raw = [
        point("http_requests_per_second", 6.0, handler="/x", method="GET", code="200"),
        point("http_requests_per_second", 2.0, handler="/x", method="GET", code="500"),
        point("http_requests_per_second", 2.0, handler="/x", method="GET", code="502"),
    ]
    values = by_series(derive_canonical(raw))
    ratio = 'http_error_ratio{handler="/x",method="GET",status_class="5xx"}'
    assert values[ratio] == pytest.approx(0.4)
    assert values['http_5xx_per_s{handler="/x",method="GET"}'] == 4.0


def test_no_requests_gives_no_ratio_and_no_status_label_gives_no_error_series() -> None:
    idle = by_series(derive_canonical([point("http_requests_per_second", 0.0, code="200")]))
    assert idle == {"http_requests_per_s": 0.0, "http_5xx_per_s": 0.0}
    plain = by_series(derive_canonical([point("http_requests_per_second", 3.0, job="api")]))
    assert plain == {'http_requests_per_s{job="api"}': 3.0}


def test_latency_quantiles_in_milliseconds_and_count_rate_as_fallback_request_rate() -> None:
    raw = [
        point("http_request_duration_seconds_p95", 0.25, endpoint="/a"),
        point("http_server_request_duration_seconds_p99", 2.5, route="/b"),
        point("http_server_request_duration_seconds_count_per_second", 7.0, route="/b"),
        point("http_request_duration_seconds_count_per_second", 4.0, endpoint="/a"),
        point("http_requests_per_second", 4.0, endpoint="/a", code="200"),
    ]
    values = by_series(derive_canonical(raw))
    assert values['http_latency_p95_ms{endpoint="/a"}'] == pytest.approx(250.0)
    assert values['http_latency_p99_ms{route="/b"}'] == pytest.approx(2500.0)
    assert values['http_requests_per_s{route="/b"}'] == 7.0  # no counter: the histogram's count
    assert values['http_requests_per_s{endpoint="/a"}'] == 4.0  # the counter, once
    assert len([s for s in values if s.startswith("http_requests_per_s{")]) == 2


def test_auth_and_business_rates_are_renamed_and_business_is_per_minute() -> None:
    raw = [
        point("auth_attempts_per_second", 4.0, platform="a"),
        point("auth_failures_per_second", 3.0, platform="a"),
        point("business_events_per_second", 0.5, platform="a", event="signup"),
        point("queue_depth", 2.0, platform="a"),
    ]
    values = by_series(derive_canonical(raw))
    assert values == {
        'auth_attempts_per_s{platform="a"}': 4.0,
        'auth_failures_per_s{platform="a"}': 3.0,
        'business_events_per_min{event="signup",platform="a"}': 30.0,
        'queue_depth{platform="a"}': 2.0,
    }


def test_keep_raw_keeps_the_points_the_canonical_ones_came_from() -> None:
    raw = [point("auth_failures_per_second", 3.0, platform="a")]
    names = {p.series.split("{")[0] for p in derive_canonical(raw, keep_raw=True)}
    assert names == {"auth_failures_per_s", "auth_failures_per_second"}


def scrape_twice(simulator: PlatformSimulator) -> list[MetricPoint]:
    """What the live Monitor derives from two scrapes 60 s apart of every platform's page and
    every shared dependency's page (``simulator_targets``)."""
    pages = {name: simulator.prometheus_text for name in simulator.platform_names}
    pages.update(dict.fromkeys(SIMULATED_DEPENDENCIES, simulator.dependency_text))
    converters = {name: ExpositionConverter({"target": name}) for name in pages}
    points: list[MetricPoint] = []
    for _ in range(2):
        simulator.advance(60.0)
        points = []
        for name, converter in converters.items():
            raw = converter.convert(parse_exposition(pages[name](name)), simulator.now())
            points += derive_canonical(raw)
    return points


def shapes(points: list[MetricPoint]) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    found: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for p in points:
        labels = {k: v for k, v in p.labels.items() if k != "target"}
        found.setdefault(p.series.split("{")[0], set()).add(tuple(sorted(labels.items())))
    return found


def test_live_scrape_produces_the_observation_names_and_labels() -> None:
    simulator = PlatformSimulator(seed=3, start=START)
    live = shapes(scrape_twice(simulator))
    observed = shapes(simulator.observe())
    for name, label_sets in observed.items():
        assert name in live, f"the live scrape does not produce {name}"
        assert label_sets <= live[name], name


def test_dependency_series_are_scraped_once_without_a_platform() -> None:
    points = scrape_twice(PlatformSimulator(seed=3, start=START))
    database = [p for p in points if p.series.startswith("db_up")]
    assert [p.labels for p in database] == [{"dependency": "postgres", "target": "postgres"}]
    assert not any("dependency" in p.labels and "platform" in p.labels for p in points)


@pytest.mark.parametrize(
    ("kind", "metric", "status"),
    [(FaultKind.SERVICE_CRASH, "http_error_ratio", "5xx"),
     (FaultKind.BRUTE_FORCE_LOGIN, "auth_failures_per_s", None)],
)  # fmt: skip
def test_live_scrape_sees_a_fault_like_the_observation(
    kind: FaultKind, metric: str, status: str | None
) -> None:
    simulator = PlatformSimulator(seed=5, start=START)
    simulator.advance(120.0)
    simulator.inject(kind, "leadsite.ai", 1.0, None)
    live = scrape_twice(simulator)
    observed = simulator.observe()

    def peak(points: list[MetricPoint]) -> float:
        return max(
            p.value
            for p in points
            if p.series.startswith(metric + "{")
            and p.labels.get("platform") == "leadsite.ai"
            and p.labels.get("status_class") == status
        )

    assert peak(live) == pytest.approx(peak(observed), rel=0.2)
