"""Corroboration: a lone warning on a per-request series is held as info until a second
flagged point (or a second series of its platform) backs it; other series are untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.anomaly.alert_policy import Corroboration
from selfheal_ml.events import AnomalyDetected

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _flagged(
    seconds: float,
    score: float,
    metric: str = "http_latency_p99_ms",
    platform: str = "a",
    endpoint: str = "/api",
    value: float = 300.0,
) -> AnomalyDetected:
    labels = {"platform": platform, "endpoint": endpoint}
    series = f'{metric}{{endpoint="{endpoint}",platform="{platform}"}}'
    return AnomalyDetected(
        ts=T0 + timedelta(seconds=seconds), source="Predictive", series=series, value=value,
        score=score, expected_low=200.0, expected_high=250.0, detector="d",
        severity="warning" if score >= 12.0 else "info", labels=labels,
    )  # fmt: skip


def _severities(review: Corroboration, *events: AnomalyDetected) -> list[str]:
    return [event.severity for event in review.review(list(events))]


def test_a_lone_point_is_held_and_a_second_one_raises_the_warning() -> None:
    review = Corroboration()
    assert _severities(review, _flagged(0, 15.0)) == ["info"]
    assert _severities(review, _flagged(30, 13.0)) == ["warning"]
    assert _severities(review, _flagged(60, 13.0)) == ["warning"]  # still corroborated


def test_a_follow_up_inside_its_range_or_too_late_raises_nothing() -> None:
    review = Corroboration()
    assert _severities(review, _flagged(0, 15.0)) == ["info"]
    assert _severities(review, _flagged(30, 9.0, value=240.0)) == ["info"]  # inside the range
    review = Corroboration()
    assert _severities(review, _flagged(0, 15.0)) == ["info"]
    assert _severities(review, _flagged(300, 15.0)) == ["info"]  # outside the window


def test_several_endpoints_of_one_platform_at_once_alert_at_once() -> None:
    review = Corroboration()
    both = _severities(review, _flagged(0, 14.0, endpoint="/a"), _flagged(0, 9.0, endpoint="/b"))
    assert both == ["warning", "info"]  # the second is below the warning score itself
    apart = _severities(
        review, _flagged(600, 14.0, platform="x"), _flagged(600, 14.0, platform="y")
    )
    assert apart == ["info", "info"]  # one each on two platforms: no shared evidence


def test_a_strong_score_or_a_slow_resource_series_alerts_alone() -> None:
    review = Corroboration()
    assert _severities(review, _flagged(0, 80.0)) == ["warning"]
    disk = _flagged(0, 8.5, metric="host_disk_percent", value=60.0)
    disk = disk.model_copy(update={"severity": "warning"})
    assert _severities(review, disk) == ["warning"]  # one point of a filling disk is news
