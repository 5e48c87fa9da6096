"""A round's threshold changes become alerts and per-platform health events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.events import AlertRaised, HealthChecked, MetricPoint
from selfheal_ml.monitoring import ThresholdLimits, ThresholdTracker, evaluate_thresholds
from selfheal_ml.monitoring.round_events import round_events

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def slow_queries(value: float, at: datetime) -> MetricPoint:
    labels = {"target": "shop-db", "platform": "shop"}
    series = 'db_slow_queries{platform="shop",target="shop-db"}'
    return MetricPoint(series=series, ts=at, value=value, labels=labels)


def test_a_started_condition_fires_then_clears_with_its_first_description() -> None:
    tracker, limits = ThresholdTracker(), ThresholdLimits()
    first = round_events(
        NOW, "Monitor", tracker.update(evaluate_thresholds([slow_queries(2, NOW)], limits), NOW),
        ["shop", "blog"],
    )  # fmt: skip
    later = NOW + timedelta(seconds=30)
    changes = tracker.update(evaluate_thresholds([slow_queries(0, later)], limits), later)
    second = round_events(later, "Monitor", changes, ["shop", "blog"])

    [fired] = [event for event in first if isinstance(event, AlertRaised)]
    [cleared] = [event for event in second if isinstance(event, AlertRaised)]
    assert (fired.alertname, fired.firing, fired.labels["platform"]) == (
        "SlowQueries",
        True,
        "shop",
    )
    assert fired.annotations["value"] == "2"
    assert (cleared.firing, cleared.correlation_id) == (False, fired.correlation_id)
    assert cleared.annotations == fired.annotations  # described as when it started


def test_every_platform_gets_one_health_event_sorted_with_what_holds_on_it() -> None:
    tracker = ThresholdTracker()
    changes = tracker.update(evaluate_thresholds([slow_queries(3, NOW)], ThresholdLimits()), NOW)
    health = [e for e in round_events(NOW, "Monitor", changes, {"shop", "blog"}) if
              isinstance(e, HealthChecked)]  # fmt: skip
    assert [event.target for event in health] == ["blog", "shop"]
    assert health[0].detail == ""
    assert health[1].detail.startswith("3 database queries running longer than")
    assert health[1].status != "healthy"
