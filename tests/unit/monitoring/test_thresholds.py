"""Threshold rules: SlowQueries (any query past its target's slow-query limit), HighDisk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.diagnosis.observations import ALERT_METRICS
from selfheal_ml.events import MetricPoint
from selfheal_ml.monitoring import ThresholdLimits, ThresholdTracker, evaluate_thresholds

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LABELS = {"target": "shop-db", "platform": "shop"}


def slow_queries(value: float, at: datetime = NOW) -> MetricPoint:
    series = 'db_slow_queries{platform="shop",target="shop-db"}'
    return MetricPoint(series=series, ts=at, value=value, labels=dict(LABELS))


def test_one_slow_query_is_a_warning_with_the_targets_labels() -> None:
    [finding] = evaluate_thresholds([slow_queries(2.0)], ThresholdLimits())
    assert (finding.alertname, finding.severity, finding.labels) == (
        "SlowQueries",
        "warning",
        LABELS,
    )
    assert finding.value == 2.0
    assert finding.summary.startswith("2 database queries running longer than")


def test_no_slow_query_is_no_finding() -> None:
    assert evaluate_thresholds([slow_queries(0.0)], ThresholdLimits()) == []


def test_the_diagnosis_reads_it_as_slow_queries_going_up() -> None:
    assert ALERT_METRICS["SlowQueries"] == ("db_slow_queries", 1)


def test_it_clears_when_the_slow_queries_are_gone() -> None:
    tracker = ThresholdTracker()
    limits = ThresholdLimits()
    started = tracker.update(evaluate_thresholds([slow_queries(1.0)], limits), NOW)
    later = NOW + timedelta(seconds=30)
    cleared = tracker.update(evaluate_thresholds([slow_queries(0.0, later)], limits), later)
    assert [t.finding.alertname for t in started.started] == ["SlowQueries"]
    assert [t.finding.alertname for t in cleared.cleared] == ["SlowQueries"]


def test_connections_near_the_maximum_are_a_warning_then_an_exhausted_pool() -> None:
    from datetime import UTC, datetime

    from selfheal_ml.events import MetricPoint
    from selfheal_ml.monitoring import ThresholdLimits, evaluate_thresholds

    t = datetime(2026, 1, 5, tzinfo=UTC)
    labels = {"dependency": "postgres"}

    def round_with(in_use: float) -> list[str]:
        points = [
            MetricPoint(series="db_connections_in_use", ts=t, value=in_use, labels=labels),
            MetricPoint(series="db_connections_max", ts=t, value=100.0, labels=labels),
        ]
        return [f.alertname for f in evaluate_thresholds(points, ThresholdLimits())]

    assert round_with(79.0) == []
    assert round_with(80.0) == round_with(89.0) == ["DatabaseConnectionsHigh"]
    assert round_with(90.0) == ["DatabaseConnectionsExhausted"]


def test_a_disk_past_the_table_limit_is_a_warning_the_diagnosis_reads_as_a_fill() -> None:
    labels = {"platform": "shop", "host": "shop-1"}

    def disk(value: float) -> MetricPoint:
        series = 'host_disk_percent{host="shop-1",platform="shop"}'
        return MetricPoint(series=series, ts=NOW, value=value, labels=dict(labels))

    limits = ThresholdLimits()
    assert evaluate_thresholds([disk(limits.disk_percent)], limits) == []
    [finding] = evaluate_thresholds([disk(93.4)], limits)
    assert (finding.alertname, finding.severity, finding.labels) == ("HighDisk", "warning", labels)
    assert finding.summary == "disk 93 % > 90 %"
    assert ALERT_METRICS["HighDisk"] == ("host_disk_percent", 1)
