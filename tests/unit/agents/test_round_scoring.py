"""How the Predictive agent reports flagged points (drops of a metric where only a rise is
trouble are never flagged: ``tests/unit/anomaly/test_scoring.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfheal_ml.agents.round_scoring import anomalies
from selfheal_ml.anomaly import PointScore
from selfheal_ml.events import MetricPoint

TS = datetime(2026, 1, 5, tzinfo=UTC)


def _flagged(series: str, value: float, low: float, high: float) -> tuple[MetricPoint, PointScore]:
    point = MetricPoint(series=series, ts=TS, value=value, labels={"platform": "a"})
    return point, PointScore(40.0, 40.0, True, low, high, "daily")


def test_a_resource_anomaly_alerts_from_the_base_threshold_a_per_request_one_from_twelve() -> None:
    """Per-endpoint latency just over the threshold is a record (info); memory just over it
    is a warning: a leak often shows nowhere else before it ends."""
    flagged = []
    for series in ('http_latency_p95_ms{platform="a"}', 'host_memory_percent{platform="a"}'):
        point = MetricPoint(series=series, ts=TS, value=90.0, labels={"platform": "a"})
        flagged.append((point, PointScore(9.0, 9.0, True, 10.0, 50.0, "median")))
    events, _ = anomalies(flagged, "predictive")
    assert [event.severity for event in events] == ["info", "warning"]


def test_a_value_inside_its_expected_range_alerts_only_from_twelve() -> None:
    """A shape flagged at 9 with the value inside the band is a record; at 13, a warning; the
    same score with the value outside the band is a warning on a resource series."""
    series = 'background_job_queue_depth{platform="a"}'
    cases = [(3.0, 9.0), (3.0, 13.0), (9.0, 9.0)]  # (value, calibrated); band 1.7-3.6
    flagged = [
        (
            MetricPoint(series=series, ts=TS, value=value, labels={"platform": "a"}),
            PointScore(score, score, True, 1.7, 3.6, "resonance"),
        )
        for value, score in cases
    ]
    events, _ = anomalies(flagged, "predictive")
    assert [event.severity for event in events] == ["info", "warning", "warning"]


@pytest.mark.parametrize(
    "series",
    [
        'business_events_per_min{event="signups",platform="a"}',
        'auth_attempts_per_s{platform="a"}',
        'auth_failures_per_s{platform="a"}',
        'host_cpu_percent{platform="a"}',
        'db_connections_in_use{dependency="postgres"}',
    ],
)
def test_user_activity_and_load_following_resources_alert_only_from_twelve(series: str) -> None:
    """Logins and business events are noisy counts, CPU and connections in use follow the
    traffic: outside their band at 9 they are a record, at 13 a warning."""
    flagged = [
        (
            MetricPoint(series=series, ts=TS, value=9.0, labels={"platform": "a"}),
            PointScore(score, score, True, 1.7, 3.6, "resonance"),
        )
        for score in (9.0, 13.0)
    ]
    events, _ = anomalies(flagged, "predictive")
    assert [event.severity for event in events] == ["info", "warning"]
