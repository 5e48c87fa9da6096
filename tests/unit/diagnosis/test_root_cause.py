"""Root-cause ranking, confidence and impact, with expected numbers computed by hand.

Scores are ``fit * weight`` where the weight is 0.5 for a probable victim platform and 1.2 for
the component(s) that went anomalous first; the fits follow the weights of ``HYPOTHESES``
(see the hand computations in each test).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.root_cause import (
    SLO,
    SLO_PERIOD_S,
    Candidate,
    Impact,
    confidence_of,
    error_onsets,
    impact_of,
    rank_causes,
    symptom_strengths,
    to_signal,
)
from selfheal_ml.repair.incident import Signal
from selfheal_ml.repair.strategy import PlanPolicy

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
# fits used below (weights from HYPOTHESES)
DB_UNREACHABLE_WITH_VICTIMS = 6 / 7  # db_up_down 4 + errors 1 + latency 1 of 7
CRASH_ERRORS_ONLY = 3 / 6  # errors_5xx_up 3 of 6
PUSH_ERRORS_ONLY = 3 / 7  # errors_5xx_up 3 of 7
JOB_AGE_ONLY = 3 / 5.5  # job_age_up 3 of 5.5


def _observation(
    second: float,
    metric: str,
    component: str,
    score: float,
    labels: dict[str, str] | None = None,
    value: float | None = None,
) -> Observation:
    if labels is None:
        is_dependency = metric.startswith(("db_", "redis_", "cache_"))
        labels = {"dependency": component} if is_dependency else {"platform": component}
    return Observation(
        T0 + timedelta(seconds=second),
        metric,
        metric,
        component,
        score,
        "anomaly",
        tuple(sorted(labels.items())),
        value=value,
    )


def _errors(second: float, platform: str, score: float = 12.0) -> Observation:
    return _observation(second, "http_5xx_per_s", platform, score)


def _by_label(candidates: list[Candidate]) -> dict[str, Candidate]:
    return {candidate.label: candidate for candidate in candidates}


# --- symptom_strengths, to_signal ---------------------------------------------------------


def test_symptom_strengths_keeps_the_strongest_per_direction() -> None:
    strengths = symptom_strengths(
        [
            _observation(0, "http_latency_p95_ms", "a", 6.0),
            _observation(1, "http_latency_p99_ms", "a", 9.0),
            _observation(2, "http_latency_p50_ms", "a", -4.0),
            _observation(3, "host_cpu_percent", "a", 0.0),  # no movement
            _observation(4, "probe_up", "a", -20.0),  # no symptom family
        ]
    )
    assert strengths == {"latency_up": 9.0, "latency_down": 4.0}


def test_error_ratio_family_follows_the_status_class() -> None:
    five = _observation(0, "http_error_ratio", "a", 7.0, {"platform": "a", "status_class": "5xx"})
    four = _observation(0, "http_error_ratio", "a", 5.0, {"platform": "a", "status_class": "4xx"})
    assert symptom_strengths([five, four]) == {"errors_5xx_up": 7.0, "errors_4xx_up": 5.0}


def test_to_signal_carries_where_and_status_class() -> None:
    platform = _observation(
        0, "http_error_ratio", "a", 7.0, {"platform": "a", "status_class": "5xx"}
    )
    assert to_signal(platform) == Signal("http_error_ratio", 7.0, "a", None, "5xx")
    database = _observation(0, "db_up", "postgres", -20.0)
    assert to_signal(database) == Signal("db_up", -20.0, None, "postgres", None)


# --- rank_causes --------------------------------------------------------------------------


def test_no_observations_no_candidates() -> None:
    assert rank_causes([]) == []


def test_observations_without_a_known_signature_give_no_candidates() -> None:
    assert rank_causes([_observation(0, "probe_up", "a", -20.0)]) == []


def _db_outage() -> list[Observation]:
    observations = [_observation(0, "db_up", "postgres", -20.0)]
    for platform in ["a", "b", "c", "d"]:
        observations.append(_errors(30, platform))
        observations.append(_observation(40, "http_latency_p95_ms", platform, 9.0))
    return observations


def test_db_unreachable_with_four_victim_platforms_ranks_the_database_first() -> None:
    ranked = rank_causes(_db_outage())
    top = ranked[0]
    assert top.label == "db_unreachable@postgres"
    assert top.strategy == "reset_db_connections"
    assert top.onset == T0
    assert top.fit == pytest.approx(DB_UNREACHABLE_WITH_VICTIMS, abs=1e-6)
    assert top.score == pytest.approx(DB_UNREACHABLE_WITH_VICTIMS * 1.2, abs=1e-6)
    assert top.evidence == ("db_up_down 20.0", "errors_5xx_up 12.0", "latency_up 9.0")


def test_db_outage_victims_are_halved_and_ordered() -> None:
    ranked = rank_causes(_db_outage())
    # each victim: crash 0.5 and push 3/7, weighted 0.5 (victim) * 1.2 (within 60 s of onset)
    assert [candidate.label for candidate in ranked] == [
        "db_unreachable@postgres",
        "service_crash@a",
        "service_crash@b",
        "service_crash@c",
        "service_crash@d",
        "bad_config_push@a",
        "bad_config_push@b",
        "bad_config_push@c",
        "bad_config_push@d",
    ]
    by_label = _by_label(ranked)
    assert by_label["service_crash@c"].score == pytest.approx(CRASH_ERRORS_ONLY * 0.6, abs=1e-6)
    assert by_label["service_crash@c"].fit == CRASH_ERRORS_ONLY
    assert by_label["bad_config_push@d"].score == pytest.approx(PUSH_ERRORS_ONLY * 0.6, abs=1e-6)


def test_db_outage_confidence_by_hand() -> None:
    # scores: db 7.2/7, four crashes 0.3, four pushes 3.6/14: the runner-up is a crash (0.3)
    # top share against it (7.2/7) / (7.2/7 + 0.3), times fit 6/7
    expected = (7.2 / 7) / (7.2 / 7 + 0.3) * (6 / 7)
    assert confidence_of(rank_causes(_db_outage())) == pytest.approx(expected, abs=1e-5)


def test_platform_in_trouble_well_before_the_dependency_is_not_a_victim() -> None:
    ranked = _by_label(
        rank_causes(
            [
                _errors(0, "a"),
                _observation(300, "db_up", "postgres", -20.0),
                _errors(310, "b"),
            ]
        )
    )
    # a: first (bonus 1.2), not a victim; b: victim (0.5), no bonus; db: 5/7, no bonus
    assert ranked["service_crash@a"].score == pytest.approx(CRASH_ERRORS_ONLY * 1.2, abs=1e-6)
    assert ranked["service_crash@b"].score == pytest.approx(CRASH_ERRORS_ONLY * 0.5, abs=1e-6)
    assert ranked["db_unreachable@postgres"].score == pytest.approx(5 / 7, abs=1e-6)


def test_a_single_platform_is_never_treated_as_a_victim() -> None:
    ranked = _by_label(rank_causes([_observation(0, "db_up", "postgres", -20.0), _errors(30, "a")]))
    assert ranked["service_crash@a"].score == pytest.approx(CRASH_ERRORS_ONLY * 1.2, abs=1e-6)


def test_dependency_sees_victim_symptoms_only() -> None:
    # the platform's disk is not a victim symptom, so the database's fit stays 4/7
    ranked = _by_label(
        rank_causes(
            [
                _observation(0, "db_up", "postgres", -20.0),
                _observation(10, "host_disk_percent", "a", 30.0),
            ]
        )
    )
    assert ranked["db_unreachable@postgres"].fit == pytest.approx(4 / 7, abs=1e-6)
    assert ranked["db_unreachable@postgres"].evidence == ("db_up_down 20.0",)
    # no platform shows victim symptoms, so the database is not taken for a victim: 4/7 * 1.2
    assert ranked["db_unreachable@postgres"].score == pytest.approx(4 / 7 * 1.2, abs=1e-6)


def _surge_loading_the_database(*hurt: str) -> list[Observation]:
    observations = [
        _observation(0, "http_requests_per_s", "a", 20.0),
        _observation(0, "host_cpu_percent", "a", 12.0),
        _observation(0, "http_latency_p95_ms", "a", 9.0),
        _observation(20, "db_connections_in_use", "postgres", 8.0),
    ]
    observations += [_observation(30, "http_latency_p95_ms", other, 9.0) for other in hurt]
    return observations


def test_dependency_hurting_a_single_platform_is_taken_for_its_victim() -> None:
    ranked = rank_causes(_surge_loading_the_database())
    # surge: (3 + 1.5 + 1) / 7 * 1.2 (first, sole platform); pool exhaustion:
    # (3 + 1) / 5.5 (db_connections_up and the platform's latency) * 0.5 * 1.2 (within 60 s)
    assert [candidate.label for candidate in ranked] == [
        "traffic_surge@a",
        "db_pool_exhaustion@postgres",
    ]
    assert ranked[0].score == pytest.approx(5.5 / 7 * 1.2, abs=1e-6)
    assert ranked[1].score == pytest.approx(4 / 5.5 * 0.5 * 1.2, abs=1e-6)
    assert ranked[1].fit == pytest.approx(4 / 5.5, abs=1e-6)


def test_a_surge_explains_the_database_load_even_when_others_are_hurt() -> None:
    ranked = _by_label(rank_causes(_surge_loading_the_database("b")))
    assert ranked["db_pool_exhaustion@postgres"].score == pytest.approx(
        4 / 5.5 * 0.5 * 1.2, abs=1e-6
    )


def test_dependency_hurting_two_platforms_without_a_surge_is_not_halved() -> None:
    observations = [
        _observation(0, "db_connections_in_use", "postgres", 8.0),
        _observation(30, "http_latency_p95_ms", "a", 9.0),
        _observation(30, "http_latency_p95_ms", "b", 9.0),
    ]
    ranked = _by_label(rank_causes(observations))
    assert ranked["db_pool_exhaustion@postgres"].score == pytest.approx(4 / 5.5 * 1.2, abs=1e-6)


def test_lead_lag_bonus_goes_to_the_first_component() -> None:
    observations = [
        _observation(0, "background_job_last_success_age_s", "a", 8.0),
        _observation(120, "background_job_last_success_age_s", "b", 8.0),
    ]
    ranked = rank_causes(observations)
    assert [candidate.label for candidate in ranked] == [
        "stuck_background_job@a",
        "stuck_background_job@b",
    ]
    assert ranked[0].score == pytest.approx(JOB_AGE_ONLY * 1.2, abs=1e-6)
    assert ranked[1].score == pytest.approx(JOB_AGE_ONLY, abs=1e-6)


def test_lead_lag_tolerance_shares_the_bonus() -> None:
    observations = [
        _observation(120, "background_job_last_success_age_s", "b", 8.0),
        _observation(0, "background_job_last_success_age_s", "a", 8.0),
    ]
    ranked = rank_causes(observations, lag_tolerance_s=300.0)
    assert ranked[0].score == ranked[1].score == pytest.approx(JOB_AGE_ONLY * 1.2, abs=1e-6)
    # a tie is broken by onset
    assert [candidate.component for candidate in ranked] == ["a", "b"]


def test_without_a_change_errors_look_like_a_crash() -> None:
    ranked = rank_causes([_errors(0, "a")])
    assert [candidate.label for candidate in ranked] == ["service_crash@a", "bad_config_push@a"]
    assert ranked[0].score == pytest.approx(CRASH_ERRORS_ONLY * 1.2, abs=1e-6)
    assert ranked[1].score == pytest.approx(PUSH_ERRORS_ONLY * 1.2, abs=1e-6)


@pytest.mark.parametrize("age_s", [0.0, 600.0, 1800.0])
def test_recent_config_change_points_at_the_push(age_s: float) -> None:
    ranked = rank_causes([_errors(0, "a")], change_ages_s={"a": age_s})
    assert [candidate.label for candidate in ranked] == ["bad_config_push@a", "service_crash@a"]
    # push: (3 + 3) / 7; crash: 3/6 - 0.25 for the contradicting change
    assert ranked[0].fit == pytest.approx(6 / 7, abs=1e-6)
    assert ranked[1].fit == pytest.approx(0.25, abs=1e-6)
    assert "config_change_recent 8.0" in ranked[0].evidence
    assert ranked[0].strategy == "rollback_config"


@pytest.mark.parametrize("age_s", [1800.5, 7200.0, -1.0])
def test_old_or_future_change_is_ignored(age_s: float) -> None:
    ranked = rank_causes([_errors(0, "a")], change_ages_s={"a": age_s})
    assert ranked[0].label == "service_crash@a"


def test_change_on_another_platform_is_ignored() -> None:
    ranked = rank_causes([_errors(0, "a")], change_ages_s={"b": 60.0})
    assert ranked[0].label == "service_crash@a"


def test_stuck_cache_outranks_the_database_it_loads() -> None:
    ranked = rank_causes(
        [
            _observation(0, "cache_hit_ratio", "redis", -15.0),
            _observation(20, "db_query_duration_ms", "postgres", 9.0),
            _observation(30, "http_latency_p95_ms", "a", 6.0),
            _observation(30, "http_latency_p95_ms", "b", 6.0),
        ]
    )
    # cache: (3 + 1 * 9/8 capped at 1 + 0.5 * 6/8) / 5.5, first (1.2): it sees the database's
    # slower queries; the database and the platforms fit nothing
    assert [candidate.label for candidate in ranked] == ["stuck_cache@redis"]
    assert ranked[0].score == pytest.approx((4.375 / 5.5) * 1.2, abs=1e-6)


def test_candidates_with_zero_fit_are_dropped() -> None:
    ranked = rank_causes([_errors(0, "a")])
    assert all(candidate.score > 0 for candidate in ranked)
    assert "disk_filling@a" not in _by_label(ranked)


# --- confidence_of ------------------------------------------------------------------------


def _candidate(cause: str, score: float, fit: float) -> Candidate:
    return Candidate(cause, "x", score, fit, T0, "restart_service", ())


def test_confidence_is_the_top_share_times_its_fit() -> None:
    candidates = [
        _candidate("a", 0.6, 0.5),
        _candidate("b", 0.3, 0.3),
        _candidate("c", 0.1, 0.1),
    ]
    assert confidence_of(candidates) == 0.333333  # 0.6 / (0.6 + 0.3 runner-up) * 0.5


def test_single_candidate_confidence_is_its_fit() -> None:
    assert confidence_of([_candidate("a", 1.2, 1.0)]) == 1.0


def test_confidence_without_candidates_or_score_is_zero() -> None:
    assert confidence_of([]) == 0.0
    assert confidence_of([_candidate("a", 0.0, 0.0)]) == 0.0


# --- impact_of ----------------------------------------------------------------------------


def _error_ratio(platform: str, value: float | None, status_class: str = "5xx") -> Observation:
    labels = {"platform": platform, "status_class": status_class}
    return _observation(0, "http_error_ratio", platform, 9.0, labels, value=value)


def test_budget_is_43_minutes() -> None:
    budget_s = SLO_PERIOD_S * (1 - SLO)
    assert budget_s == pytest.approx(2592.0)


def test_impact_counts_the_worst_platform_peak_over_the_age() -> None:
    observations = [
        _error_ratio("a", 0.1),
        _error_ratio("a", 0.25),
        _error_ratio("b", 0.1),
        _error_ratio("c", 0.9, status_class="4xx"),  # client errors burn no budget
        _observation(0, "db_up", "postgres", -20.0),  # no platform
        _observation(
            0,
            "http_latency_p95_ms",
            "a",
            9.0,
            {"platform": "a", "endpoint": "/api/login"},
        ),
    ]
    impact = impact_of(observations, T0, T0 + timedelta(minutes=30))
    assert impact.platforms == ("a", "b", "c")
    assert impact.endpoints == ("a/api/login",)
    # 0.25 * 1800 s / 2592 s
    assert impact.error_budget_burned == pytest.approx(450 / 2592, abs=1e-6)
    assert impact.describe() == (
        "3 platform(s): a, b, c; endpoints a/api/login; error budget burned 17.4% of a 99.9 % month"
    )


def test_error_ratio_above_one_is_clamped() -> None:
    impact = impact_of([_error_ratio("a", 3.0)], T0, T0 + timedelta(hours=1))
    assert impact.error_budget_burned == pytest.approx(3600 / 2592, abs=1e-6)


def test_error_ratio_without_value_burns_nothing() -> None:
    impact = impact_of([_error_ratio("a", None)], T0, T0 + timedelta(hours=1))
    assert impact.error_budget_burned == 0.0
    assert impact.platforms == ("a",)


def test_clock_before_the_opening_burns_nothing() -> None:
    impact = impact_of([_error_ratio("a", 0.5)], T0, T0 - timedelta(minutes=5))
    assert impact.error_budget_burned == 0.0


def test_impact_of_a_dependency_only_incident() -> None:
    impact = impact_of([_observation(0, "db_up", "postgres", -20.0)], T0, T0)
    assert impact == Impact((), (), 0.0)
    assert impact.describe() == (
        "0 platform(s): no platform yet; error budget burned 0.0% of a 99.9 % month"
    )


def test_describe_lists_at_most_five_endpoints() -> None:
    impact = Impact(("a",), tuple(f"a/e{index}" for index in range(7)), 0.0)
    assert "a/e4;" in impact.describe()
    assert "a/e5" not in impact.describe()


def test_stuck_cache_loading_the_database_is_not_blamed_on_a_slow_query() -> None:
    ranked = rank_causes(
        [
            _observation(0, "cache_hit_ratio", "redis", -15.0),
            _observation(10, "redis_memory_used_bytes", "redis", 8.0),
            _observation(20, "db_query_duration_ms", "postgres", 10.0),
            _observation(20, "db_slow_queries_per_s", "postgres", 6.0),
            _observation(30, "http_latency_p95_ms", "a", 6.0),
            _observation(30, "http_latency_p95_ms", "b", 6.0),
        ]
    )
    # today: slow_query (3 * 6/8 + 1.5 + 1 * 6/8) / 5.5 * 1.2 = 0.981818 with no penalty for
    # cache_hit_ratio_down; stuck_cache (3 + 1 + 0.5 * 6/8) / 5.5 * 1.2 = 0.954545 without the
    # db_query_duration_up it lists. With both visible: slow_query (0.818182 - 0.25) * 1.2
    # = 0.681818, stuck_cache (4.375 + 1) / 5.5 * 1.2 = 1.172727.
    assert ranked[0].label == "stuck_cache@redis"


def test_database_down_is_not_a_victim_of_the_one_platform_it_hurts() -> None:
    ranked = rank_causes(
        [
            _observation(0, "db_up", "postgres", -20.0),
            _errors(30, "a"),
            _observation(40, "http_latency_p95_ms", "a", 9.0),
        ]
    )
    assert ranked[0].label == "db_unreachable@postgres"


def test_database_outage_on_five_platforms_is_confident_enough_to_repair() -> None:
    observations = [_observation(0, "db_up", "postgres", -20.0)]
    for platform in ["a", "b", "c", "d", "e"]:
        observations += [
            _errors(30, platform),
            _observation(40, "http_latency_p95_ms", platform, 9.0),
        ]
    ranked = rank_causes(observations)
    assert ranked[0].label == "db_unreachable@postgres"
    # scores: db 7.2/7, five crashes 0.3, five pushes 3.6/14: confidence (7.2/7) / 3.814286 * 6/7
    assert confidence_of(ranked) >= PlanPolicy().min_confidence


def test_a_platform_whose_values_stayed_in_range_is_not_hurt() -> None:
    """A value inside its expected range (strength 0) groups with the incident but names no
    platform: a crash on ``a`` with ``b``'s business events flagged in range hurts ``a``."""
    crash = _error_ratio("a", 0.5)
    in_range = _observation(0, "business_events_per_min", "b", 0.0)
    assert impact_of([crash, in_range], T0, T0).platforms == ("a",)
    assert impact_of([in_range], T0, T0).platforms == ("b",)  # nothing hurts yet: all observed


# --- load-aware sources: a memory leak is named from the leak watch, not an anomaly --------


def _from(source: str, second: float, metric: str, platform: str, score: float) -> Observation:
    return Observation(
        T0 + timedelta(seconds=second),
        metric,
        metric,
        platform,
        score,
        source,  # type: ignore[arg-type]
        (("platform", platform),),
    )


def test_memory_following_the_traffic_is_no_leak() -> None:
    """Dev seed 7014, leadsite.io 01-21 18:25: requests up by half, memory with them, logins;
    the anomalies alone named ``memory_leak`` (0.5) and two restarts did nothing."""
    observations = [
        _from("anomaly", 0, "http_requests_per_s", "leadsite.io", 9.0),
        _from("anomaly", 30, "host_memory_percent", "leadsite.io", 11.0),
        _from("anomaly", 40, "auth_attempts_per_s", "leadsite.io", 6.0),
    ]
    assert "memory_leak@leadsite.io" not in _by_label(rank_causes(observations))


def test_a_memory_anomaly_alone_names_no_cause() -> None:
    """7014's second incident: memory alone, 40 minutes later, scored 0.8 as a leak."""
    assert rank_causes([_from("anomaly", 0, "host_memory_percent", "leadsite.io", 12.0)]) == []


def test_a_disk_anomaly_alone_names_no_cause() -> None:
    """Held-out 7033: a healthy disk's lone anomaly (8.04) was named a fill and cleaned up."""
    assert rank_causes([_from("anomaly", 0, "host_disk_percent", "leadsite.io", 8.04)]) == []


@pytest.mark.parametrize(
    ("metric", "cause", "expected_weight"),
    [("host_memory_percent", "memory_leak", 4.5), ("host_disk_percent", "disk_filling", 3.5)],
)
@pytest.mark.parametrize("source", ["forecast", "alert"])
def test_a_prediction_or_the_alert_names_a_leak_or_a_fill(
    source: str, metric: str, cause: str, expected_weight: float
) -> None:
    """A ramp the traffic does not explain (the leak watch's or the disk watch's
    ``BreachPredicted``) or the level past its alert threshold establishes the cause; an
    anomaly on the same series then adds."""
    observations = [
        _from(source, 0, metric, "a", 8.0),
        _from("anomaly", 30, metric, "a", 12.0),
    ]
    found = _by_label(rank_causes(observations))[f"{cause}@a"]
    # the primary at its strongest (12, full): 3 of the expected weight; 1.2 for coming first
    assert found.fit == pytest.approx(3 / expected_weight, abs=1e-6)
    assert found.score == pytest.approx(1.2 * 3 / expected_weight, abs=1e-6)


@pytest.mark.parametrize("metric", ["host_memory_percent", "host_disk_percent"])
def test_a_weak_prediction_does_not_establish_the_cause(metric: str) -> None:
    observations = [
        _from("forecast", 0, metric, "a", 2.0),
        _from("anomaly", 30, metric, "a", 12.0),
    ]
    assert rank_causes(observations) == []


# --- magnitude: a database fault moves it far past its band, a busy hour does not ---------


def _database(
    value: float, high: float = 40.0, metric: str = "db_connections_in_use"
) -> Observation:
    return Observation(
        T0,
        metric,
        metric,
        "postgres",
        8.0,
        "anomaly",
        (("dependency", "postgres"),),
        value=value,
        expected_low=0.0,
        expected_high=high,
    )


def _campaign_and_a_latency_blip() -> list[Observation]:
    """Leaks-alone run, dev seed 1001, 01-06 15:00: a campaign on leadsite.ai (requests,
    logins, CPU up, nothing failing), a p99 blip on videosite.io."""
    return [
        _observation(0, "http_requests_per_s", "leadsite.ai", 8.2),
        _observation(0, "auth_attempts_per_s", "leadsite.ai", 8.1),
        _observation(0, "host_cpu_percent", "leadsite.ai", 9.0),
        _observation(30, "http_latency_p99_ms", "videosite.io", 9.2),
    ]


def test_a_database_just_past_its_band_names_no_database_fault() -> None:
    """The run reset the pool on 42.8 connections against an edge of 40.0 (1.07x); with the
    pool ruled out, it reindexed on 0.0232 slow queries/s against 0.0214 (1.09x)."""
    observations = [
        *_campaign_and_a_latency_blip(),
        _database(42.8),
        _database(0.0232, high=0.0214, metric="db_slow_queries_per_s"),
    ]
    assert rank_causes(observations) == []


def test_connections_far_past_their_band_are_an_exhausted_pool() -> None:
    """The pool run's mildest diagnosed exhaustion: 63.2 against 40.3 (1.57x)."""
    observations = [*_campaign_and_a_latency_blip(), _database(63.2, high=40.3)]
    assert "db_pool_exhaustion@postgres" in _by_label(rank_causes(observations))


def test_slow_queries_far_past_their_band_are_a_slow_query() -> None:
    """7014's slow query: 147 times the band's edge."""
    observations = [*_campaign_and_a_latency_blip(), _database(3.1, 0.021, "db_slow_queries_per_s")]
    assert "slow_query@postgres" in _by_label(rank_causes(observations))


@pytest.mark.parametrize(("value", "named"), [(51.9, False), (52.0, True)])
def test_the_pool_is_called_full_from_its_ratio_on(value: float, named: bool) -> None:
    observations = [_database(value), _observation(30, "http_latency_p95_ms", "a", 9.0)]
    assert ("db_pool_exhaustion@postgres" in _by_label(rank_causes(observations))) is named


def test_error_onsets_are_each_platforms_first_server_errors() -> None:
    """The first 5xx sign per platform; a latency sign or a dependency's is no onset."""
    observations = [
        _observation(0, "http_latency_p95_ms", "a", 9.0),
        _errors(30, "a"),
        _errors(10, "b"),
        _errors(90, "a"),
        _observation(5, "db_up", "postgres", -20.0),
    ]
    onsets = error_onsets(observations)
    assert onsets == {"a": observations[1].ts, "b": observations[2].ts}


def test_slow_queries_name_the_query_though_they_fill_the_pool() -> None:
    """Dev seed 7026, 01-16 14:45: a slow query's slow queries (50), the connections its
    queries held (8.6) and two platforms' latency; the pool outscored the query (4/5.5 against
    4/6) and its reset did nothing. Leaked connections do not make queries slow."""
    observations = [
        _observation(0, "db_slow_queries_per_s", "postgres", 50.0),
        _observation(30, "http_latency_p99_ms", "a", 15.6),
        _observation(30, "http_latency_p99_ms", "b", 9.5),
        _observation(60, "db_connections_in_use", "postgres", 8.6),
    ]
    ranked = rank_causes(observations)
    assert ranked[0].label == "slow_query@postgres"
    pool = _by_label(ranked)["db_pool_exhaustion@postgres"]
    assert pool.fit == pytest.approx(4 / 5.5 - 0.25, abs=1e-6)
