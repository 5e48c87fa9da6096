"""Fault hypotheses: the fit of observed symptom strengths to each known failure signature.

Expected fits are computed by hand from the weights in ``HYPOTHESES``: the weighted share of
expected symptoms seen (each counting ``min(1, strength / 8)``, only at strength >= 3), minus
0.25 per contradicting symptom, floored at 0; nothing without the primary symptom (or, for a
traffic surge, without any harm).
"""

from __future__ import annotations

import pytest

from selfheal_ml.diagnosis.hypotheses import (
    FULL_STRENGTH,
    HYPOTHESES,
    PRESENT_STRENGTH,
    fit,
    hypotheses_for,
)
from selfheal_ml.repair.baselines import STRATEGIES
from selfheal_ml.repair.features import SYMPTOM_FEATURES

KNOWN_SYMPTOMS = {*SYMPTOM_FEATURES, "config_change_recent"}


# --- the catalogue ------------------------------------------------------------------------


def test_catalogue_is_keyed_by_cause() -> None:
    assert all(cause == hypothesis.cause for cause, hypothesis in HYPOTHESES.items())


@pytest.mark.parametrize("cause", sorted(HYPOTHESES))
def test_every_hypothesis_is_well_formed(cause: str) -> None:
    hypothesis = HYPOTHESES[cause]
    assert hypothesis.primary
    assert set(hypothesis.primary) <= set(hypothesis.symptoms)
    assert set(hypothesis.harm) <= set(hypothesis.symptoms)
    assert not set(hypothesis.contradicts) & set(hypothesis.symptoms)
    assert set(hypothesis.symptoms) | set(hypothesis.contradicts) <= KNOWN_SYMPTOMS
    assert all(weight > 0 for weight in hypothesis.symptoms.values())
    assert {hypothesis.strategy, *hypothesis.alternatives} <= set(STRATEGIES)


def test_hypotheses_for_each_kind() -> None:
    assert {item.cause for item in hypotheses_for("database")} == {
        "db_unreachable",
        "db_pool_exhaustion",
        "slow_query",
    }
    assert [item.cause for item in hypotheses_for("cache")] == ["stuck_cache"]
    platform = {item.cause for item in hypotheses_for("platform")}
    assert "service_crash" in platform
    assert "db_unreachable" not in platform
    assert len(platform) + 3 + 1 == len(HYPOTHESES)


# --- fit ----------------------------------------------------------------------------------


def test_no_primary_symptom_means_no_fit() -> None:
    assert fit(HYPOTHESES["db_unreachable"], {"latency_up": 20.0, "errors_5xx_up": 20.0}) == 0.0
    assert fit(HYPOTHESES["db_unreachable"], {}) == 0.0


def test_primary_below_present_strength_means_no_fit() -> None:
    assert fit(HYPOTHESES["disk_filling"], {"disk_up": PRESENT_STRENGTH - 0.01}) == 0.0


def test_primary_at_present_strength_counts_partially() -> None:
    # disk_up 3 of 8 with weight 3 over a total weight 3.5: 3 * 3/8 / 3.5 = 0.321429
    assert fit(HYPOTHESES["disk_filling"], {"disk_up": PRESENT_STRENGTH}) == 0.321429


def test_full_strength_symptoms_count_fully_and_no_more() -> None:
    # db_unreachable weights: db_up_down 4, db_connections_down 1, errors 1, latency 1 (total 7)
    assert fit(HYPOTHESES["db_unreachable"], {"db_up_down": FULL_STRENGTH}) == 0.571429
    assert fit(HYPOTHESES["db_unreachable"], {"db_up_down": 50.0}) == 0.571429


def test_partial_secondary_symptom() -> None:
    # (4 * 1 + 1 * 4/8) / 7 = 4.5 / 7
    strengths = {"db_up_down": 20.0, "db_connections_down": 4.0}
    assert fit(HYPOTHESES["db_unreachable"], strengths) == 0.642857


def test_weak_secondary_symptom_does_not_count() -> None:
    strengths = {"db_up_down": 20.0, "latency_up": 2.9}
    assert fit(HYPOTHESES["db_unreachable"], strengths) == 0.571429


def test_symptoms_outside_the_signature_are_ignored() -> None:
    strengths = {"db_up_down": 20.0, "disk_up": 30.0, "auth_failures_up": 30.0}
    assert fit(HYPOTHESES["db_unreachable"], strengths) == 0.571429


def test_docstring_example_by_hand() -> None:
    # (4 * 1 + 1 * min(1, 9/8)) / 7 = 5/7
    strengths = {"db_up_down": 20.0, "latency_up": 9.0}
    assert fit(HYPOTHESES["db_unreachable"], strengths) == 0.714286


def test_a_job_is_stuck_only_when_nothing_succeeds() -> None:
    job = HYPOTHESES["stuck_background_job"]
    # weights job_age 3, job_queue 2, business_events 0.5 (total 5.5)
    assert fit(job, {"job_age_up": 8.0}) == 0.545455  # 3 / 5.5
    assert fit(job, {"job_age_up": 8.0, "job_queue_up": 8.0}) == 0.909091  # 5 / 5.5
    # a longer queue of jobs that still succeed is load, not a stuck job
    assert fit(job, {"job_queue_up": 8.0}) == 0.0


def test_each_contradiction_costs_a_quarter() -> None:
    unreachable = HYPOTHESES["db_unreachable"]
    # weights db_up_down 4, connections_down 1, errors 1, latency 1 (total 7): 4/7, minus 0.25
    assert fit(unreachable, {"db_up_down": 8.0}) == 0.571429
    assert fit(unreachable, {"db_up_down": 8.0, "db_connections_up": 8.0}) == 0.321429


def test_a_saturated_pool_is_not_contradicted_by_failed_connections() -> None:
    # connections refused because the pool is full: db_up goes down with the pool
    pool = HYPOTHESES["db_pool_exhaustion"]
    # weights connections 3, latency 1, errors 1, db_up_down 0.5 (total 5.5): 3.5 / 5.5
    assert fit(pool, {"db_connections_up": 8.0, "db_up_down": 8.0}) == 0.636364


def test_weak_contradiction_does_not_count() -> None:
    unreachable = HYPOTHESES["db_unreachable"]
    assert fit(unreachable, {"db_up_down": 8.0, "db_connections_up": 2.0}) == 0.571429


def test_harm_is_required_where_declared() -> None:
    pool = HYPOTHESES["db_pool_exhaustion"]
    assert fit(pool, {"db_connections_up": 8.0}) == 0.0  # connections up, nobody hurt
    assert fit(pool, {"db_connections_up": 8.0, "latency_up": 8.0}) == 0.727273  # 4 / 5.5


def test_a_large_primary_movement_is_required_where_declared() -> None:
    surge = HYPOTHESES["traffic_surge"]
    strengths = {"requests_up": 8.0, "latency_up": 8.0}
    assert fit(surge, strengths, {"requests_up": 1.5}) == 0.0  # a campaign
    assert fit(surge, strengths, {"requests_up": 4.0}) == 0.571429  # 4 / 7
    assert fit(surge, strengths) == 0.571429  # ratios unknown: not required


def test_fit_is_floored_at_zero() -> None:
    # bad_config_push: errors_5xx_up 3 of 8 -> 3 * 0.375 / 7 = 0.160714, minus 0.25 for cpu_down
    strengths = {"errors_5xx_up": 3.0, "cpu_down": 8.0}
    assert fit(HYPOTHESES["bad_config_push"], strengths) == 0.0


def test_crash_and_config_push_are_told_apart_by_cpu_and_change() -> None:
    crash = HYPOTHESES["service_crash"]
    push = HYPOTHESES["bad_config_push"]
    idle = {"errors_5xx_up": 12.0, "cpu_down": 8.0}
    # crash: (3 + 2) / 6 = 0.833333; push: 3/7 - 0.25 = 0.178571
    assert (fit(crash, idle), fit(push, idle)) == (0.833333, 0.178571)
    changed = {"errors_5xx_up": 12.0, "config_change_recent": 8.0}
    # crash: 3/6 - 0.25 = 0.25; push: (3 + 3) / 7 = 0.857143
    assert (fit(crash, changed), fit(push, changed)) == (0.25, 0.857143)


# --- traffic surge: harm is required --------------------------------------------------------


def test_served_campaign_fits_no_hypothesis() -> None:
    campaign = {"requests_up": 20.0, "cpu_up": 12.0}
    assert {cause: fit(item, campaign) for cause, item in HYPOTHESES.items()} == {
        cause: 0.0 for cause in HYPOTHESES
    }


def test_surge_with_weak_harm_is_still_a_campaign() -> None:
    strengths = {"requests_up": 20.0, "cpu_up": 12.0, "latency_up": 2.9, "errors_5xx_up": 2.9}
    assert fit(HYPOTHESES["traffic_surge"], strengths) == 0.0


@pytest.mark.parametrize("harm", ["latency_up", "errors_5xx_up"])
def test_surge_with_harm_fits(harm: str) -> None:
    strengths = {"requests_up": 20.0, "cpu_up": 12.0, harm: 3.0}
    # weights requests 3, cpu 1.5, latency 1, errors 1, memory 0.5 (total 7):
    # (3 + 1.5 + 1 * 3/8) / 7 = 4.875 / 7
    assert fit(HYPOTHESES["traffic_surge"], strengths) == 0.696429


def test_harm_without_more_requests_is_not_a_surge() -> None:
    assert fit(HYPOTHESES["traffic_surge"], {"latency_up": 20.0, "cpu_up": 20.0}) == 0.0


# --- every signature recognises itself ----------------------------------------------------


@pytest.mark.parametrize("cause", sorted(HYPOTHESES))
def test_full_symptom_set_fits_perfectly(cause: str) -> None:
    hypothesis = HYPOTHESES[cause]
    strengths = dict.fromkeys(hypothesis.symptoms, FULL_STRENGTH)
    assert fit(hypothesis, strengths) == 1.0


@pytest.mark.parametrize("cause", sorted(HYPOTHESES))
def test_full_symptom_set_ranks_itself_first_among_its_kind(cause: str) -> None:
    hypothesis = HYPOTHESES[cause]
    strengths = dict.fromkeys(hypothesis.symptoms, FULL_STRENGTH)
    rivals = [item for item in hypotheses_for(hypothesis.kind) if item.cause != cause]
    own = fit(hypothesis, strengths)
    assert all(fit(rival, strengths) < own for rival in rivals)


@pytest.mark.parametrize("cause", sorted(HYPOTHESES))
def test_fit_stays_in_the_unit_interval(cause: str) -> None:
    hypothesis = HYPOTHESES[cause]
    strengths = dict.fromkeys([*hypothesis.symptoms, *hypothesis.contradicts], 50.0)
    assert 0.0 <= fit(hypothesis, strengths) <= 1.0
