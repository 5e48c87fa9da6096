"""A repair's known side effects: which signs they explain, where and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.events import AlertRaised, AnomalyDetected
from selfheal_ml.repair.side_effects import (
    KNOWN_SIDE_EFFECTS,
    DisturbanceBook,
    announcement,
    expected_disturbance,
    from_announcement,
)

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def _later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _alert(metric: str, platform: str, seconds: float, *, firing: bool = True) -> AlertRaised:
    return AlertRaised(
        ts=_later(seconds), source="Monitor", alertname="ServerErrors", severity="warning",
        labels={"platform": platform, "endpoint": "/x"}, annotations={"metric": metric},
        firing=firing,
    )  # fmt: skip


def _anomaly(series: str, platform: str, seconds: float) -> AnomalyDetected:
    return AnomalyDetected(
        ts=_later(seconds), source="Predictive", series=series, value=0.4, score=30.0,
        expected_low=0.0, expected_high=0.01, detector="d", labels={"platform": platform},
    )  # fmt: skip


def test_a_restart_reaches_its_own_platform_only() -> None:
    restart = expected_disturbance("restart_service", "i1", "a", T0, settle_s=75)
    assert restart is not None and restart.platforms == {"a"}
    assert restart.explains("http_5xx_per_s", "a", _later(100))
    assert not restart.explains("http_5xx_per_s", "b", _later(100))  # another platform
    assert not restart.explains("http_5xx_per_s", "a", _later(106))  # 30 s + 75 s are over
    assert not restart.explains("http_latency_p95_ms", "a", _later(10))  # not its effect


def test_dropping_the_database_connections_reaches_every_platform() -> None:
    reset = expected_disturbance("reset_db_connections", "i1", "postgres", T0, settle_s=75)
    assert reset is not None and reset.platforms == frozenset()
    assert reset.explains("http_error_ratio", "any.io", _later(90))
    assert not reset.explains("http_error_ratio", "any.io", _later(-1))  # before it ran


def test_strategies_without_a_known_side_effect_announce_nothing() -> None:
    for strategy in ("restart_background_job", "rollback_config", "scale_out", "block_ip"):
        assert strategy not in KNOWN_SIDE_EFFECTS
        assert expected_disturbance(strategy, "i1", "a", T0, settle_s=75) is None
    # a restart whose platform is unknown inhibits nothing rather than every platform
    assert expected_disturbance("restart_service", "i1", "", T0, settle_s=75) is None


def test_the_announcement_round_trips() -> None:
    reset = expected_disturbance("reset_db_connections", "i1", "postgres", T0, settle_s=75)
    assert reset is not None
    event = announcement(reset, "Repair")
    assert event.until == _later(90) and event.platforms == ()
    assert from_announcement(event) == reset


def test_the_book_inhibits_explained_firing_alerts_and_anomalies_only() -> None:
    book = DisturbanceBook()
    reset = expected_disturbance("reset_db_connections", "i7", "postgres", T0, settle_s=75)
    assert reset is not None
    book.note(announcement(reset, "Repair"))

    inhibited = book.review_alert(_alert("http_5xx_per_s", "b", 30))
    assert inhibited.inhibited_by.startswith("reset_db_connections for incident i7")
    assert inhibited.severity == "warning"  # the rule's own verdict is kept
    # a condition already holding before the repair ran is not its doing
    assert (
        book.review_alert(_alert("http_5xx_per_s", "b", 30), since=_later(-60)).inhibited_by == ""
    )
    cleared = _alert("http_5xx_per_s", "b", 30, firing=False)
    assert book.review_alert(cleared) is cleared  # a clearing is never inhibited
    latency = _alert("http_latency_p95_ms", "b", 30)
    assert book.review_alert(latency) is latency

    held = book.review_anomaly(_anomaly('http_error_ratio{platform="c"}', "c", 40))
    assert held.severity == "info" and "i7" in held.inhibited_by
    cpu = _anomaly('host_cpu_percent{platform="c"}', "c", 40)
    assert book.review_anomaly(cpu) is cpu

    assert book.review_alert(_alert("http_5xx_per_s", "b", 120)).inhibited_by == ""  # over
    assert book.expected == []  # the 120 s alert found the disturbance over and dropped it


def test_a_cold_cache_loads_the_database_and_slows_requests_but_fails_none() -> None:
    """Held-out seed 7020: after 4 of 12 cache flushes the database's load and the platforms'
    slower requests opened incidents of their own (slow queries, a filling pool) and were
    repaired on a healthy database. They are the flush's doing for its cold period; errors are
    not (a bad push during a flush is a fault of its own)."""
    flush = expected_disturbance("clear_cache", "i1", None, T0, settle_s=60)
    assert flush is not None and not flush.platforms
    for metric in ("db_slow_queries_per_s", "db_connections_in_use", "http_latency_p50_ms"):
        assert flush.explains(metric, "b", _later(300)), metric
    assert flush.explains("db_query_duration_ms", None, _later(600))
    assert not flush.explains("http_error_ratio", "b", _later(60))
    assert not flush.explains("db_slow_queries_per_s", None, _later(700))
