"""Observations: alerts, anomalies and breaches become one signed, component-tagged shape.

The sign of an anomaly comes from the side of the expected range its value fell on (not from
the detector's score), alerts get a fixed strength signed by the direction their rule watches,
and each series lands on the right component (dependency, dependency target, platform).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.diagnosis.observations import (
    ALERT_METRICS,
    ALERT_STRENGTH,
    BREACH_STRENGTH,
    SCORE_CAP,
    Observation,
    alert_key,
    component_of,
    dependency_kind,
    from_alert,
    from_anomaly,
    from_breach,
    metric_name,
)
from selfheal_ml.diagnosis.report import trigger_of
from selfheal_ml.events import AlertRaised, AnomalyDetected, BreachPredicted, Severity

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _anomaly(
    value: float,
    score: float,
    low: float = 10.0,
    high: float = 20.0,
    series: str = 'http_latency_p95_ms{platform="a"}',
    labels: dict[str, str] | None = None,
) -> AnomalyDetected:
    return AnomalyDetected(
        ts=T0,
        source="Monitor",
        series=series,
        value=value,
        score=score,
        expected_low=low,
        expected_high=high,
        detector="bank",
        labels={"platform": "a"} if labels is None else labels,
        explanation="latency far above its usual range",
    )


def _alert(
    alertname: str,
    labels: dict[str, str],
    severity: Severity = "critical",
    firing: bool = True,
    annotations: dict[str, str] | None = None,
) -> AlertRaised:
    return AlertRaised(
        ts=T0,
        source="Monitor",
        alertname=alertname,
        severity=severity,
        labels=labels,
        annotations=annotations or {},
        firing=firing,
    )


# --- from_anomaly -------------------------------------------------------------------------


def test_anomaly_above_the_range_is_positive() -> None:
    observation = from_anomaly(_anomaly(value=35.0, score=7.5))
    assert observation.score == 7.5
    assert observation.source == "anomaly"


def test_anomaly_below_the_range_is_negative_even_with_a_positive_score() -> None:
    observation = from_anomaly(_anomaly(value=2.0, score=7.5))
    assert observation.score == -7.5


def test_anomaly_sign_ignores_the_detector_score_sign() -> None:
    # a detector reporting a negative score for a value above the range still means "up"
    assert from_anomaly(_anomaly(value=35.0, score=-6.0)).score == 6.0
    assert from_anomaly(_anomaly(value=2.0, score=-6.0)).score == -6.0


def test_anomaly_magnitude_is_at_least_one() -> None:
    assert from_anomaly(_anomaly(value=35.0, score=0.2)).score == 1.0
    assert from_anomaly(_anomaly(value=2.0, score=0.0)).score == -1.0


def test_anomaly_score_is_capped_both_ways() -> None:
    assert from_anomaly(_anomaly(value=35.0, score=1e6)).score == SCORE_CAP
    assert from_anomaly(_anomaly(value=2.0, score=float("inf"))).score == -SCORE_CAP


@pytest.mark.parametrize("value", [10.0, 15.0, 20.0])
def test_anomaly_inside_the_range_has_no_direction(value: float) -> None:
    # the range is [10, 20]: its bounds are inside it
    observation = from_anomaly(_anomaly(value=value, score=9.0))
    assert observation.score == 0.0
    assert observation.strength == 0.0
    assert observation.component == "a"  # still kept, for grouping


def test_anomaly_with_nan_score_has_no_strength() -> None:
    assert from_anomaly(_anomaly(value=35.0, score=float("nan"))).score == 0.0


def test_anomaly_carries_series_value_range_labels_and_explanation() -> None:
    observation = from_anomaly(
        _anomaly(
            value=35.0,
            score=5.0,
            series='http_latency_p95_ms{endpoint="/api",platform="a"}',
            labels={"platform": "a", "endpoint": "/api"},
        )
    )
    assert observation.metric == "http_latency_p95_ms"
    assert observation.series == 'http_latency_p95_ms{endpoint="/api",platform="a"}'
    assert observation.component == "a"
    assert observation.labels == (("endpoint", "/api"), ("platform", "a"))
    assert (observation.value, observation.expected_low, observation.expected_high) == (
        35.0,
        10.0,
        20.0,
    )
    assert observation.detail == "latency far above its usual range"
    assert observation.ts == T0


def test_anomaly_on_a_dependency_series_lands_on_the_dependency() -> None:
    observation = from_anomaly(
        _anomaly(
            value=900.0,
            score=12.0,
            low=5.0,
            high=50.0,
            series='db_query_duration_ms{dependency="postgres"}',
            labels={"dependency": "postgres"},
        )
    )
    assert observation.component == "postgres"
    assert observation.dependency == "postgres"
    assert observation.kind == "database"
    assert observation.platform is None


# --- from_alert ---------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "strength"), list(ALERT_STRENGTH.items()))
def test_alert_strength_follows_severity(severity: Severity, strength: float) -> None:
    observation = from_alert(_alert("HighCpu", {"platform": "a"}, severity=severity))
    assert observation is not None
    assert observation.score == strength


@pytest.mark.parametrize(("alertname", "expected"), list(ALERT_METRICS.items()))
def test_every_known_alert_maps_to_its_metric_and_direction(
    alertname: str, expected: tuple[str, int]
) -> None:
    metric, direction = expected
    observation = from_alert(_alert(alertname, {"platform": "a"}, severity="warning"))
    assert observation is not None
    assert observation.metric == metric
    assert observation.score == direction * ALERT_STRENGTH["warning"]
    assert observation.source == "alert"


def test_database_connection_failure_is_db_up_going_down_on_the_dependency() -> None:
    observation = from_alert(_alert("DatabaseConnectionFailure", {"dependency": "postgres"}))
    assert observation is not None
    assert (observation.metric, observation.component, observation.score) == (
        "db_up",
        "postgres",
        -20.0,
    )
    assert observation.kind == "database"


def test_resolved_alert_is_ignored() -> None:
    assert from_alert(_alert("HighCpu", {"platform": "a"}, firing=False)) is None


def test_unknown_alert_is_ignored() -> None:
    assert from_alert(_alert("SomethingElse", {"platform": "a"})) is None


def test_high_error_rate_counts_as_5xx_but_keeps_its_identity() -> None:
    observation = from_alert(_alert("HighErrorRate", {"platform": "a"}))
    assert observation is not None
    assert observation.label_map == {"platform": "a", "status_class": "5xx"}
    # the series is the alert's identity, built from its own labels only
    assert observation.series == "HighErrorRate{platform=a}"


def test_alert_value_and_summary_come_from_annotations() -> None:
    observation = from_alert(
        _alert("HighCpu", {"platform": "a"}, annotations={"value": "97.5", "summary": "CPU hot"})
    )
    assert observation is not None
    assert observation.value == 97.5
    assert observation.detail == "CPU hot"


def test_alert_without_annotations_uses_its_name_and_no_value() -> None:
    observation = from_alert(_alert("HighCpu", {"platform": "a"}))
    assert observation is not None
    assert observation.value is None
    assert observation.detail == "HighCpu"


def test_alert_with_an_unparsable_value_has_none() -> None:
    observation = from_alert(_alert("HighCpu", {"platform": "a"}, annotations={"value": "n/a"}))
    assert observation is not None
    assert observation.value is None


def test_alert_key_sorts_labels() -> None:
    assert alert_key("HighCpu", {"platform": "a", "host": "h"}) == "HighCpu{host=h,platform=a}"
    assert alert_key("HighCpu", {"host": "h", "platform": "a"}) == alert_key(
        "HighCpu", {"platform": "a", "host": "h"}
    )
    assert alert_key("TargetDown", {}) == "TargetDown{}"


# --- from_breach --------------------------------------------------------------------------


def test_breach_is_a_positive_fixed_strength_observation() -> None:
    event = BreachPredicted(
        ts=T0,
        source="Predictive",
        series='host_disk_percent{platform="b"}',
        limit=90.0,
        eta=T0 + timedelta(hours=6, minutes=30),
        probability=0.8,
        labels={"platform": "b"},
    )
    observation = from_breach(event)
    assert observation.score == BREACH_STRENGTH
    assert observation.source == "forecast"
    assert observation.metric == "host_disk_percent"
    assert observation.component == "b"
    assert observation.detail == (
        'host_disk_percent{platform="b"} predicted to reach 90 by 2026-01-05 18:30'
        " (probability 0.80)"
    )


def test_breach_with_a_level_is_verified_by_the_series_falling_back() -> None:
    """A predicted breach carries its trend's level: the Repair agent verifies a fix by the
    series coming back below it (less the noise), e.g. memory after a restart."""
    event = BreachPredicted(
        ts=T0, source="Predictive", series='host_memory_percent{platform="b"}', limit=85.0,
        eta=T0 + timedelta(hours=3), probability=0.95, labels={"platform": "b"},
        value=63.0, recovered_below=61.0,
    )  # fmt: skip
    observation = from_breach(event)
    assert (observation.value, observation.expected_high) == (63.0, 61.0)
    trigger = trigger_of(observation)
    assert trigger is not None
    assert (trigger.kind, trigger.key, trigger.low, trigger.high) == (
        "range", event.series, None, 61.0,
    )  # fmt: skip
    without_level = from_breach(event.model_copy(update={"value": None, "recovered_below": None}))
    assert trigger_of(without_level) is None


# --- component_of, metric_name, dependency_kind --------------------------------------------


def test_dependency_label_wins_over_everything() -> None:
    labels = {"dependency": "postgres", "platform": "a", "target": "shop-db"}
    assert component_of("db_up", labels) == "postgres"
    assert component_of("http_latency_p95_ms", labels) == "postgres"


def test_dependency_metric_uses_its_target_before_the_platform() -> None:
    assert component_of("db_up", {"target": "shop-db", "platform": "a"}) == "shop-db"
    assert component_of("redis_memory_used_bytes", {"target": "cache-1"}) == "cache-1"


def test_platform_metric_uses_the_platform_before_the_target() -> None:
    assert component_of("host_cpu_percent", {"target": "host-1", "platform": "a"}) == "a"


def test_platform_metric_falls_back_to_target_then_unknown() -> None:
    assert component_of("probe_up", {"target": "https://a.example"}) == "https://a.example"
    assert component_of("host_cpu_percent", {}) == "unknown"


def test_empty_dependency_label_is_ignored() -> None:
    assert component_of("host_cpu_percent", {"dependency": "", "platform": "a"}) == "a"


def test_metric_name_strips_labels() -> None:
    assert metric_name('db_up{dependency="postgres"}') == "db_up"
    assert metric_name("host_cpu_percent") == "host_cpu_percent"


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ("db_up", "database"),
        ("pg_locks", "database"),
        ("redis_memory_used_bytes", "cache"),
        ("cache_hit_ratio", "cache"),
        ("http_latency_p95_ms", None),
        ("host_disk_percent", None),
    ],
)
def test_dependency_kind_by_prefix(metric: str, kind: str | None) -> None:
    assert dependency_kind(metric) == kind


# --- Observation properties ---------------------------------------------------------------


def test_platform_series_has_no_dependency_and_is_a_platform() -> None:
    observation = Observation(
        T0, "host_cpu_percent", "s", "a", -9.0, "anomaly", (("platform", "a"),)
    )
    assert observation.dependency is None
    assert observation.kind == "platform"
    assert observation.platform == "a"
    assert observation.strength == 9.0


def test_dependency_label_makes_a_platform_metric_a_dependency_series() -> None:
    observation = Observation(
        T0, "http_latency_p95_ms", "s", "postgres", 9.0, "anomaly", (("dependency", "postgres"),)
    )
    assert observation.dependency == "postgres"
    assert observation.kind == "platform"  # the kind follows the metric
