"""Grouping: related observations close in time become one incident, unrelated ones do not.

The key cases: a database fault slowing several platforms is one incident (even when the
platforms' anomalies arrive before the database's, which merges incidents not yet diagnosed);
two platforms' own faults, or a disk filling on a platform during a database incident, stay
apart; the time window and the quiet period (and holding) behave at their boundaries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.diagnosis.grouping import DEPENDENCY_EFFECTS, IncidentGrouper, Topology, symptom_of
from selfheal_ml.diagnosis.observations import Observation

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _seen(
    second: float, metric: str, component: str, labels: dict[str, str] | None = None
) -> Observation:
    """An observation ``second`` s after T0; platform metrics get a platform label."""
    if labels is None:
        labels = {} if metric.startswith(("db_", "redis_", "cache_")) else {"platform": component}
    return Observation(
        T0 + timedelta(seconds=second),
        metric,
        metric,
        component,
        9.0,
        "anomaly",
        tuple(sorted(labels.items())),
    )


def _latency(second: float, platform: str) -> Observation:
    return _seen(second, "http_latency_p95_ms", platform)


def _db(second: float, metric: str = "db_query_duration_ms") -> Observation:
    return _seen(second, metric, "postgres")


# --- Topology.related ---------------------------------------------------------------------


def test_same_component_is_related() -> None:
    assert Topology().related(_seen(0, "host_disk_percent", "a"), _seen(0, "host_cpu_percent", "a"))


def test_two_platforms_are_not_related() -> None:
    assert not Topology().related(_latency(0, "a"), _latency(0, "b"))


def test_two_shared_dependencies_are_related() -> None:
    cache = _seen(0, "cache_hit_ratio", "redis")
    assert Topology().related(_db(0), cache)


@pytest.mark.parametrize("metric", sorted(DEPENDENCY_EFFECTS))
def test_a_platform_request_symptom_relates_to_a_dependency(metric: str) -> None:
    platform = _seen(0, metric, "a")
    assert Topology().related(platform, _db(0))
    assert Topology().related(_db(0), platform)  # symmetric


@pytest.mark.parametrize(
    "metric", ["host_disk_percent", "host_memory_percent", "auth_failures_per_s"]
)
def test_a_platform_own_symptom_does_not_relate_to_a_dependency(metric: str) -> None:
    assert not Topology().related(_seen(0, metric, "a"), _db(0))


def test_topology_restricts_which_platforms_use_a_dependency() -> None:
    topology = Topology(uses={"postgres": frozenset({"a"})})
    assert topology.related(_latency(0, "a"), _db(0))
    assert not topology.related(_latency(0, "b"), _db(0))
    # a dependency the topology does not list is used by every platform
    assert topology.related(_latency(0, "b"), _seen(0, "cache_hit_ratio", "redis"))


def test_uses_dependency_defaults_to_everyone() -> None:
    assert Topology().uses_dependency("anyone", "postgres")
    restricted = Topology(uses={"postgres": frozenset()})
    assert not restricted.uses_dependency("a", "postgres")
    assert restricted.uses_dependency("a", "redis")


# --- IncidentGrouper ----------------------------------------------------------------------


def test_db_fault_slowing_several_platforms_is_one_incident() -> None:
    grouper = IncidentGrouper(Topology())
    incident = grouper.add(_db(0, "db_up"))
    for index, platform in enumerate(["a", "b", "c", "d"]):
        assert grouper.add(_latency(10 + index, platform)) is incident
    assert len(grouper.open) == 1
    assert incident.components == {"postgres", "a", "b", "c", "d"}


def test_platforms_before_the_database_merge_into_the_oldest_incident() -> None:
    grouper = IncidentGrouper(Topology())
    first = grouper.add(_latency(0, "a"))
    second = grouper.add(_latency(5, "b"))
    assert first is not second  # two platforms alone are unrelated
    merged = grouper.add(_db(10))
    assert merged is first
    assert list(grouper.open) == [first.incident_id]
    assert first.components == {"a", "b", "postgres"}
    assert len(first.observations) == 3
    assert first.opened_at == T0
    assert first.last_seen == T0 + timedelta(seconds=10)
    assert grouper.get(second.incident_id) is None
    # later victims join the merged incident
    assert grouper.add(_latency(20, "c")) is first


def test_diagnosed_incident_is_not_merged() -> None:
    grouper = IncidentGrouper(Topology())
    first = grouper.add(_latency(0, "a"))
    second = grouper.add(_latency(5, "b"))
    first.diagnosed_at = T0 + timedelta(seconds=6)
    joined = grouper.add(_db(10))
    # only one undiagnosed candidate: the most recently active one takes the observation
    assert joined is second
    assert set(grouper.open) == {first.incident_id, second.incident_id}
    assert first.components == {"a"}


def test_diagnosed_incident_stays_apart_while_the_undiagnosed_ones_merge() -> None:
    grouper = IncidentGrouper(Topology())
    diagnosed = grouper.add(_latency(0, "a"))
    diagnosed.diagnosed_at = T0
    older = grouper.add(_latency(5, "b"))
    newer = grouper.add(_latency(6, "c"))
    assert grouper.add(_db(10)) is older
    assert set(grouper.open) == {diagnosed.incident_id, older.incident_id}
    assert older.components == {"b", "c", "postgres"}
    assert newer.incident_id not in grouper.open


def test_two_platforms_unrelated_faults_stay_separate() -> None:
    grouper = IncidentGrouper(Topology())
    disk = grouper.add(_seen(0, "host_disk_percent", "a"))
    crash = grouper.add(_seen(5, "http_5xx_per_s", "b"))
    assert disk is not crash
    assert grouper.add(_seen(10, "host_disk_percent", "a")) is disk
    assert grouper.add(_seen(12, "host_cpu_percent", "b")) is crash
    assert len(grouper.open) == 2


def test_disk_on_another_platform_does_not_join_a_db_incident() -> None:
    grouper = IncidentGrouper(Topology())
    database = grouper.add(_db(0, "db_up"))
    grouper.add(_latency(5, "a"))
    disk = grouper.add(_seen(10, "host_disk_percent", "other"))
    assert disk is not database
    assert database.components == {"postgres", "a"}


def test_platform_own_symptom_joins_its_platform_already_in_a_db_incident() -> None:
    # same component counts as related, whatever the metric
    grouper = IncidentGrouper(Topology())
    database = grouper.add(_db(0, "db_up"))
    grouper.add(_latency(5, "a"))
    assert grouper.add(_seen(10, "host_disk_percent", "a")) is database


def test_window_boundary_is_inclusive() -> None:
    grouper = IncidentGrouper(Topology(), window_s=60.0)
    incident = grouper.add(_seen(0, "host_disk_percent", "a"))
    assert grouper.add(_seen(60, "host_disk_percent", "a")) is incident
    # the window counts from the last activity (60 s), not from the opening
    assert grouper.add(_seen(120, "host_disk_percent", "a")) is incident


def test_observation_after_the_window_opens_a_new_incident() -> None:
    grouper = IncidentGrouper(Topology(), window_s=60.0)
    incident = grouper.add(_seen(0, "host_disk_percent", "a"))
    later = grouper.add(_seen(61, "host_disk_percent", "a"))
    assert later is not incident
    assert later.opened_at == T0 + timedelta(seconds=61)


def test_out_of_order_observation_does_not_move_last_seen_back() -> None:
    grouper = IncidentGrouper(Topology())
    incident = grouper.add(_seen(100, "host_disk_percent", "a"))
    grouper.add(_seen(40, "host_disk_percent", "a"))
    assert incident.last_seen == T0 + timedelta(seconds=100)
    assert len(incident.observations) == 2


def test_new_incident_gets_fresh_ids() -> None:
    grouper = IncidentGrouper(Topology())
    first = grouper.add(_seen(0, "host_disk_percent", "a"))
    second = grouper.add(_seen(0, "host_disk_percent", "b"))
    assert first.incident_id != second.incident_id
    assert first.correlation_id != second.correlation_id
    assert first.incident_id != first.correlation_id


def test_close_quiet_closes_at_exactly_the_quiet_period() -> None:
    grouper = IncidentGrouper(Topology(), quiet_s=600.0)
    incident = grouper.add(_seen(0, "host_disk_percent", "a"))
    assert grouper.close_quiet(T0 + timedelta(seconds=599)) == []
    assert grouper.get(incident.incident_id) is incident
    assert grouper.close_quiet(T0 + timedelta(seconds=600)) == [incident]
    assert grouper.get(incident.incident_id) is None
    assert grouper.open == {}


def test_close_quiet_counts_from_the_last_observation() -> None:
    grouper = IncidentGrouper(Topology(), quiet_s=600.0)
    incident = grouper.add(_seen(0, "host_disk_percent", "a"))
    grouper.add(_seen(300, "host_disk_percent", "a"))
    assert grouper.close_quiet(T0 + timedelta(seconds=600)) == []
    assert grouper.close_quiet(T0 + timedelta(seconds=900)) == [incident]


def test_held_incident_stays_open_until_released() -> None:
    grouper = IncidentGrouper(Topology(), quiet_s=600.0)
    held = grouper.add(_seen(0, "host_disk_percent", "a"))
    quiet = grouper.add(_seen(0, "host_disk_percent", "b"))
    held.held = True
    assert grouper.close_quiet(T0 + timedelta(hours=5)) == [quiet]
    assert grouper.get(held.incident_id) is held
    held.held = False
    assert grouper.close_quiet(T0 + timedelta(hours=5)) == [held]


def test_closed_incident_is_not_joined_again() -> None:
    grouper = IncidentGrouper(Topology(), window_s=3600.0, quiet_s=600.0)
    incident = grouper.add(_seen(0, "host_disk_percent", "a"))
    grouper.close_quiet(T0 + timedelta(seconds=600))
    assert grouper.add(_seen(700, "host_disk_percent", "a")) is not incident


def test_an_unexplained_incident_silent_for_ten_minutes_takes_no_new_trouble() -> None:
    """Noise that no diagnosis explained stays open for the grouping window, but a fault's
    first failures after ``unexplained_s`` of silence open an incident of their own; an
    incident with a diagnosis (a repair in progress) still takes them within the window."""
    grouper = IncidentGrouper(Topology(), window_s=900.0, unexplained_s=600.0)
    noise = grouper.add(_seen(0, "business_events_per_min", "a"))
    assert grouper.add(_seen(540, "http_error_ratio", "a")) is noise  # 9 minutes: still one
    fresh = grouper.add(_seen(540 + 660, "http_error_ratio", "a"))  # 11 minutes of silence
    assert fresh is not noise and set(grouper.open) == {noise.incident_id, fresh.incident_id}
    fresh.diagnosed_at = fresh.last_seen
    assert grouper.add(_seen(1200 + 840, "http_latency_p95_ms", "a")) is fresh  # 14 minutes


def test_an_incident_being_verified_takes_only_the_signs_its_repair_or_fault_explains() -> None:
    """After its repair ran, an incident's lingering or spreading symptoms, signs on shared
    dependencies (a cold cache loads the database) and signs on what the repair acted on are
    its own; a metric newly gone wrong on a platform (a bad push's errors during a cache
    flush's verification) opens a new incident. A failed step's next one takes all again."""
    grouper = IncidentGrouper(Topology())
    cache = grouper.add(_seen(0, "cache_hit_ratio", "redis"))
    assert grouper.add(_latency(30, "a")) is cache
    grouper.set_verifying(cache.incident_id, True)
    assert grouper.add(_latency(90, "b")) is cache  # the same symptom spreading
    assert grouper.add(_seen(95, "http_latency_p50_ms", "c")) is cache  # the same family
    assert grouper.add(_db(100, "db_connections_active")) is cache  # the cold cache's load
    errors = grouper.add(_seen(120, "http_error_ratio", "b"))
    assert errors is not cache
    assert grouper.add(_seen(150, "http_error_ratio", "b")) is errors
    grouper.set_verifying(cache.incident_id, False)
    assert grouper.add(_seen(180, "http_5xx_per_s", "c")) is cache


def test_a_restarted_platform_s_signs_join_the_incident_verifying_the_restart() -> None:
    """A restart acted on its platform: what that platform shows while the restart is being
    verified is the restart's doing or the crash's, not a second crash."""
    grouper = IncidentGrouper(Topology())
    crash = grouper.add(_seen(0, "probe_up", "a"))
    grouper.set_verifying(crash.incident_id, True)
    assert grouper.add(_latency(60, "a")) is not crash  # nothing says it was acted on yet
    grouper.acted_on(crash.incident_id, ["a"])
    assert grouper.add(_seen(90, "http_requests_per_s", "a")) is crash


def test_a_verified_outage_s_5xx_rate_is_the_5xx_ratio_it_holds() -> None:
    """Held-out 7021: during a database outage's verification, a 5xx rate and p50 latencies
    (the incident held the 5xx ratio and p95s) opened a crash incident, restarted on a healthy
    platform. A symptom is its family, whichever series shows it."""
    grouper = IncidentGrouper(Topology())
    outage = grouper.add(
        _seen(0, "http_error_ratio", "a", {"platform": "a", "status_class": "5xx"})
    )
    assert grouper.add(_db(10, "db_up")) is outage
    grouper.set_verifying(outage.incident_id, True)
    assert grouper.add(_seen(60, "http_5xx_per_s", "b")) is outage
    assert grouper.add(_seen(60, "probe_latency_ms", "b")) is not outage  # latency: not held
    assert symptom_of(_seen(0, "http_latency_p99_ms", "a")) == "latency"
    assert symptom_of(_seen(0, "host_disk_percent", "a")) == "disk"
    assert symptom_of(_seen(0, "probe_up", "a")) == "probe_up"


def test_a_verified_cache_flush_takes_the_slowness_its_cause_produces() -> None:
    """Held-out 7022: a stuck cache's incident held only the cache's series when its flush
    ran; in that round the fault's slower requests arrived, opened an incident with the
    database's connections, and it was diagnosed as pool exhaustion (a reset on a healthy
    pool). A symptom the diagnosed cause produces is its fault's, shown yet or not; one it
    does not produce (errors) is still a new problem."""
    grouper = IncidentGrouper(Topology())
    cache = grouper.add(_seen(0, "cache_hit_ratio", "redis"))
    grouper.set_verifying(cache.incident_id, True)
    assert grouper.add(_latency(30, "a")) is not cache  # nothing says what caused it yet
    grouper = IncidentGrouper(Topology())
    cache = grouper.add(_seen(0, "cache_hit_ratio", "redis"))
    cache.explained_by("stuck_cache")
    grouper.set_verifying(cache.incident_id, True)
    assert grouper.add(_latency(30, "a")) is cache
    assert grouper.add(_seen(35, "probe_latency_ms", "b")) is cache
    assert grouper.add(_db(40, "db_connections_active")) is cache
    assert grouper.add(_seen(45, "http_error_ratio", "c")) is not cache
    cache.explained_by(None)  # a revision that names no cause expects nothing more
    assert grouper.add(_latency(50, "d")) is cache  # latency is held now
    assert grouper.add(_seen(55, "host_cpu_percent", "d")) is not cache


def test_a_lone_disk_sign_takes_only_the_request_symptoms_a_full_disk_produces() -> None:
    """Held-out 7031: one anomaly on a platform's disk (no fault) opened an incident; a slow
    query's slower requests on that platform 7 minutes later joined it, the database's signs
    followed through them, and the whole was diagnosed as a filling disk (temporary files
    cleared on a healthy disk). A disk's cause fails requests but does not slow them."""
    grouper = IncidentGrouper(Topology())
    disk = grouper.add(_seen(0, "host_disk_percent", "a"))
    slow = grouper.add(_latency(420, "a"))
    assert slow is not disk
    assert grouper.add(_db(430, "db_slow_queries_per_s")) is slow
    assert disk.components == {"a"} and len(disk.observations) == 1
    grouper = IncidentGrouper(Topology())
    disk = grouper.add(_seen(0, "host_disk_percent", "a"))
    assert grouper.add(_seen(60, "http_5xx_per_s", "a")) is disk  # a full disk fails writes


def test_own_signs_that_name_no_cause_or_a_slowing_one_still_take_request_symptoms() -> None:
    """A memory rise (a leak slows requests) and a CPU rise (no cause is known from it alone)
    rule nothing out; once an incident holds a request symptom, its platform's others join."""
    grouper = IncidentGrouper(Topology())
    memory = grouper.add(_seen(0, "host_memory_percent", "a"))
    assert grouper.add(_latency(60, "a")) is memory
    cpu = grouper.add(_seen(0, "host_cpu_percent", "b"))
    assert grouper.add(_seen(60, "http_requests_per_s", "b")) is cpu
    jobs = grouper.add(_seen(0, "background_job_last_success_age_s", "c"))
    assert grouper.add(_seen(30, "business_events_per_min", "c")) is jobs  # a stuck job's
    assert grouper.add(_latency(60, "c")) is jobs  # the platform shows a request symptom now
