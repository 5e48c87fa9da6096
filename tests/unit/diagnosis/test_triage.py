"""Triage waits for the evidence that names a cause before diagnosing one platform's failing
requests, and stops waiting when that evidence arrives, a recent change explains them, or it
has waited its checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.diagnosis.grouping import OpenIncident
from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.triage import (
    CAUSE_LEAD_S,
    Readiness,
    TriagePolicy,
    awaits_cause_evidence,
    awaits_shared_evidence,
    qualifies,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ERRORS = Observation(
    T0, "http_error_ratio", "a.io", "a.io", 20.0, "alert", labels=(("platform", "a.io"),)
)


def _incident(*observations: Observation) -> OpenIncident:
    incident = OpenIncident(incident_id="i-1", correlation_id="c-1", opened_at=T0, last_seen=T0)
    for observation in observations:
        incident.add(observation)
    return incident


def test_request_symptoms_alone_wait_for_their_cause_then_diagnose() -> None:
    incident = _incident(ERRORS)
    assert awaits_cause_evidence(incident, 1, 3, recently_changed=())
    assert not awaits_cause_evidence(incident, 4, 3, recently_changed=())  # waited enough
    assert not awaits_cause_evidence(incident, 1, 3, recently_changed={"a.io"})  # a push


def test_a_sign_of_the_cause_ends_the_wait() -> None:
    traffic = Observation(
        T0, "http_requests_per_s", "a.io", "a.io", 9.0, "anomaly", labels=(("platform", "a.io"),)
    )
    assert not awaits_cause_evidence(_incident(ERRORS, traffic), 1, 3, recently_changed=())


def test_business_events_say_users_suffer_not_why() -> None:
    events = Observation(
        T0, "business_events_per_min", "a.io", "a.io", 9.0, "anomaly",
        labels=(("platform", "a.io"),),
    )  # fmt: skip
    assert awaits_cause_evidence(_incident(ERRORS, events), 1, 3, recently_changed=())


def test_an_old_sign_does_not_explain_fresh_failures() -> None:
    """7009's healthy restart: a pool's first 5xx joined a platform's incident of night-time
    CPU and business-event anomalies and was diagnosed at once as a crash. A sign older than
    the cause's lead names nothing new; one as fresh as the failures still does."""
    late = T0 + timedelta(seconds=CAUSE_LEAD_S + 60)
    errors = Observation(
        late, "http_5xx_per_s", "a.io", "a.io", 20.0, "alert", labels=(("platform", "a.io"),)
    )
    cpu = Observation(
        T0, "host_cpu_percent", "cpu", "a.io", 9.0, "anomaly", labels=(("platform", "a.io"),)
    )
    assert awaits_cause_evidence(_incident(cpu, errors), 1, 3, recently_changed=())
    fresh_cpu = Observation(
        late, "host_cpu_percent", "cpu", "a.io", 9.0, "anomaly", labels=(("platform", "a.io"),)
    )
    assert not awaits_cause_evidence(_incident(cpu, errors, fresh_cpu), 1, 3, recently_changed=())


def test_two_platforms_are_left_to_the_shared_evidence_rule() -> None:
    other = Observation(
        T0, "http_error_ratio", "b.io", "b.io", 20.0, "alert", labels=(("platform", "b.io"),)
    )
    assert not awaits_cause_evidence(_incident(ERRORS, other), 1, 3, recently_changed=())


def test_a_lone_anomaly_needs_three_persisting_checks_a_guarded_level_one() -> None:
    """A guarded level's anomaly (a hit ratio far below its healthy level) is confirmed by one
    more collection outside its range; a learnt range's anomaly by three."""
    policy = TriagePolicy()
    disk = Observation(
        T0, "host_disk_percent", "disk", "a.io", 9.0, "anomaly", (), 58.0, 40.0, 50.0
    )
    hits = Observation(T0, "cache_hit_ratio", "hits", "cache", -9.0, "anomaly", (), 0.1, 0.8, 1.0)
    assert [qualifies(_incident(disk), policy, checks) for checks in (0, 1, 2, 3)] == [
        False, False, False, True
    ]  # fmt: skip
    assert [qualifies(_incident(hits), policy, checks) for checks in (0, 1)] == [False, True]


def _platform_sign(
    second: float, metric: str, platform: str, source: str = "anomaly"
) -> Observation:
    return Observation(
        T0 + timedelta(seconds=second), metric, f"{metric}{{{platform}}}", platform, 20.0,
        source,  # type: ignore[arg-type]
        labels=(("platform", platform),),
    )  # fmt: skip


def test_a_fault_joining_noise_that_waited_its_checks_waits_again() -> None:
    """Dev seed 7014, 01-07: two platforms' latency blips (16:49:30, 16:53:30) were merged,
    waited their three checks for shared evidence and were examined (no known signature).
    A pool exhaustion's 5xx on every platform joined them 28 minutes later and was diagnosed
    at the next check as a crash of one of them; the pool's anomaly came a minute later."""
    readiness = Readiness(TriagePolicy())
    incident = _incident(
        _platform_sign(0, "http_latency_p99_ms", "videosite.io"),
        _platform_sign(240, "http_latency_p99_ms", "leadsite.ai"),
    )
    checks = [T0 + timedelta(seconds=270 + 30 * n) for n in range(4)]
    assert [readiness.ready(incident, now) for now in checks] == [False, False, False, True]
    incident.examined_at = checks[-1]  # examined: nothing explains it, no diagnosis
    assert not readiness.ready(incident, checks[-1] + timedelta(seconds=30))  # nothing new

    fault = 240 + 28 * 60
    for platform in ("videosite.io", "leadsite.ai", "tackle.io"):
        incident.add(_platform_sign(fault, "http_5xx_per_s", platform))
    first_check = T0 + timedelta(seconds=fault + 30)
    assert not readiness.ready(incident, first_check)  # waits for the shared dependency
    incident.add(
        Observation(
            first_check + timedelta(seconds=10), "db_connections_in_use", "pool", "postgres",
            8.2, "anomaly", labels=(("dependency", "postgres"),),
        )
    )  # fmt: skip
    assert readiness.ready(incident, first_check + timedelta(seconds=30))


def test_old_request_symptoms_do_not_make_a_fresh_failure_wait_for_a_shared_cause() -> None:
    """Only the last ten minutes count: an hour-old blip on another platform does not turn one
    platform's fresh crash into a suspected shared fault."""
    old = _platform_sign(0, "http_latency_p99_ms", "b.io")
    errors = _platform_sign(3600, "http_5xx_per_s", "a.io", "alert")
    assert not awaits_shared_evidence(_incident(old, errors), 1, 3)
    other = _platform_sign(3600, "http_5xx_per_s", "b.io", "alert")
    assert awaits_shared_evidence(_incident(old, errors, other), 1, 3)
