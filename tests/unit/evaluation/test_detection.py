"""The percentile both evaluation reports cut their times with (inclusive, whole percents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.evaluation.detection import Fault, Observation, match_detections, percentile


def test_percentile_of_nothing_or_one_value() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0


def test_percentile_median_ignores_input_order() -> None:
    assert percentile([30.0, 10.0, 20.0], 0.5) == 20.0


def test_percentile_interpolates_inclusively() -> None:
    # inclusive method on (100, 200): the i-th percentile is 100 + i
    assert percentile([200.0, 100.0], 0.95) == 195.0
    assert percentile([100.0, 200.0], 0.5) == 150.0
    assert percentile([100.0, 200.0], 0.25) == 125.0


def test_percentile_extremes_are_the_1st_and_99th_percentiles() -> None:
    assert percentile([100.0, 200.0], 1.0) == 199.0
    assert percentile([100.0, 200.0], 0.0) == 101.0


def test_a_dependency_alert_matches_a_platform_fault_that_moves_the_dependency() -> None:
    """A surge on one platform reaches the shared database (its ground truth says so): the
    database's alert during the surge is that fault's sign, not a false alarm; the cache's
    alert at the same time, which the surge does not move, stays unmatched."""
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    surge = Fault("f1", "traffic_surge", "a", ("a",), t0, t0 + timedelta(minutes=10),
                  "scale_out", dependencies=("postgres",))  # fmt: skip
    database = Observation(t0 + timedelta(minutes=2), "DbSlow", {"dependency": "postgres"})
    cache = Observation(t0 + timedelta(minutes=3), "CacheCold", {"dependency": "redis"})
    report = match_detections([surge], [database, cache])
    assert report.outcomes[0].detected_by == "DbSlow"
    assert report.unmatched == (cache,)


def test_a_dependency_alert_does_not_match_a_fault_without_that_dependency() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    crash = Fault("f1", "service_crash", "a", ("a",), t0, t0 + timedelta(minutes=10), None)
    database = Observation(t0 + timedelta(minutes=2), "DbSlow", {"dependency": "postgres"})
    report = match_detections([crash], [database])
    assert report.outcomes[0].detected_at is None
    assert report.false_alarms == 1
