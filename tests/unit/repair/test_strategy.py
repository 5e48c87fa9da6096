"""The repair plan: playbook, then classifier, then runbook; deduplicated and capped.

Wilson lower bounds used below (95 %, from ``wilson_interval``): 9/9 -> 0.70, 10/12 -> 0.55,
4/4 -> 0.51, 8/10 -> 0.49, 3/3 -> 0.44, 2/2 -> 0.34.
"""

from __future__ import annotations

import pytest

from selfheal_ml.repair.playbook import PlaybookEntry
from selfheal_ml.repair.recommend import RankedStrategy, Recommendation
from selfheal_ml.repair.strategy import PlannedStep, PlanPolicy, plan_repair

WIDE = PlanPolicy(max_attempts=10)


def _recommendation(*ranked: tuple[str, float], fallback: bool = False) -> Recommendation:
    return Recommendation(
        strategies=tuple(RankedStrategy(name, probability) for name, probability in ranked),
        model_version=None if fallback else "v3",
        fallback=fallback,
        needs_human_confirmation=fallback,
        reason="test",
    )


def _entry(strategy: str, successes: int, attempts: int) -> PlaybookEntry:
    return PlaybookEntry("sig", strategy, attempts=attempts, successes=successes)


def _plan(steps: list[PlannedStep]) -> list[tuple[str, str]]:
    return [(step.strategy, step.source) for step in steps]


def test_order_is_playbook_then_classifier_then_runbook() -> None:
    plan = plan_repair(
        playbook=[_entry("clear_cache", 9, 9)],
        classifier=_recommendation(("add_index", 0.6), ("restart_service", 0.3)),
        candidates=[
            ("db_pool_exhaustion", "reset_db_connections", 0.9),
            ("service_crash", "restart_service", 0.8),
            ("slow_query", "add_index", 0.7),
        ],
        confidence=0.8,
        policy=WIDE,
    )
    assert _plan(plan) == [
        ("clear_cache", "playbook"),
        ("add_index", "classifier"),
        ("restart_service", "classifier"),
        ("reset_db_connections", "runbook"),
    ]


def test_a_confident_diagnosis_keeps_the_classifier_to_its_causes_fixes() -> None:
    """The classifier reorders the known fixes; it does not bring one for a cause nobody
    diagnosed (reindex for a stuck cache), unless the diagnosis is unsure."""
    advice = _recommendation(("reindex", 0.7), ("clear_cache", 0.3))
    stuck = [("stuck_cache", "clear_cache", 0.9), ("slow_query", "add_index", 0.3)]
    assert _plan(plan_repair([], advice, stuck, confidence=0.8, policy=WIDE)) == [
        ("clear_cache", "classifier")
    ]
    assert _plan(plan_repair([], advice, stuck, confidence=0.1, policy=WIDE)) == [
        ("reindex", "classifier"),
        ("clear_cache", "classifier"),
    ]


def test_reasons_say_why() -> None:
    plan = plan_repair(
        playbook=[_entry("clear_cache", 9, 9)],
        classifier=_recommendation(("add_index", 0.6)),
        candidates=[("stuck_cache", "restart_service", 0.9), ("slow_query", "add_index", 0.6)],
        confidence=0.8,
    )
    assert [step.reason for step in plan] == [
        "worked 9/9 times for this signature (95 % lower bound 0.70)",
        "model v3: p=0.60",
        "known fix for stuck_cache (score 0.90)",
    ]


def test_nothing_known_gives_an_empty_plan() -> None:
    assert plan_repair([], None, [], confidence=1.0) == []


# --- playbook -----------------------------------------------------------------------------


def test_playbook_entries_are_ranked_by_lower_bound() -> None:
    plan = plan_repair(
        [_entry("restart_service", 10, 12), _entry("rollback_config", 9, 9)], None, [], 0.0
    )
    assert _plan(plan) == [("rollback_config", "playbook"), ("restart_service", "playbook")]


def test_playbook_needs_enough_attempts() -> None:
    policy = PlanPolicy(playbook_min_lower=0.0)
    assert plan_repair([_entry("clear_cache", 2, 2)], None, [], 0.0, policy) == []
    assert _plan(plan_repair([_entry("clear_cache", 3, 3)], None, [], 0.0, policy)) == [
        ("clear_cache", "playbook")
    ]


@pytest.mark.parametrize(
    ("successes", "attempts", "kept"),
    [(3, 3, False), (8, 10, False), (4, 4, True), (9, 9, True), (0, 5, False)],
)
def test_playbook_needs_a_good_lower_bound(successes: int, attempts: int, kept: bool) -> None:
    plan = plan_repair([_entry("clear_cache", successes, attempts)], None, [], 0.0)
    assert bool(plan) is kept


def test_playbook_is_used_even_when_the_diagnosis_is_unsure() -> None:
    plan = plan_repair(
        [_entry("clear_cache", 9, 9)], None, [("slow_query", "add_index", 0.9)], confidence=0.0
    )
    assert _plan(plan) == [("clear_cache", "playbook")]


# --- classifier ---------------------------------------------------------------------------


def test_fallback_recommendation_is_ignored() -> None:
    fallback = _recommendation(("add_index", 0.9), fallback=True)
    assert plan_repair([], fallback, [], confidence=0.0) == []


def test_classifier_strategies_need_the_probability_floor() -> None:
    classifier = _recommendation(("add_index", 0.5), ("clear_cache", 0.2), ("scale_out", 0.19))
    plan = plan_repair([], classifier, [], confidence=0.0, policy=WIDE)
    assert _plan(plan) == [("add_index", "classifier"), ("clear_cache", "classifier")]


def test_classifier_is_used_even_when_the_diagnosis_is_unsure() -> None:
    plan = plan_repair(
        [], _recommendation(("add_index", 0.6)), [("slow_query", "clear_cache", 0.9)], 0.1
    )
    assert _plan(plan) == [("add_index", "classifier")]


# --- runbook ------------------------------------------------------------------------------


def test_runbook_keeps_candidates_at_least_half_as_good() -> None:
    candidates = [
        ("stuck_cache", "clear_cache", 0.8),
        ("slow_query", "add_index", 0.4),
        ("db_pool_exhaustion", "reset_db_connections", 0.39),
    ]
    plan = plan_repair([], None, candidates, confidence=0.5)
    assert _plan(plan) == [("clear_cache", "runbook"), ("add_index", "runbook")]


def test_low_confidence_means_no_runbook_step() -> None:
    candidates = [("slow_query", "add_index", 0.9)]
    assert plan_repair([], None, candidates, confidence=0.24) == []
    assert _plan(plan_repair([], None, candidates, confidence=0.25)) == [("add_index", "runbook")]


def test_confidence_floor_comes_from_the_policy() -> None:
    candidates = [("slow_query", "add_index", 0.9)]
    assert plan_repair([], None, candidates, 0.5, PlanPolicy(min_confidence=0.6)) == []


# --- dedupe and cap -----------------------------------------------------------------------


def test_duplicates_keep_their_first_source() -> None:
    plan = plan_repair(
        [_entry("clear_cache", 9, 9)],
        _recommendation(("clear_cache", 0.7), ("add_index", 0.3)),
        [("stuck_cache", "clear_cache", 0.9), ("slow_query", "add_index", 0.8)],
        confidence=0.9,
        policy=WIDE,
    )
    assert _plan(plan) == [("clear_cache", "playbook"), ("add_index", "classifier")]


def test_plan_is_capped_after_deduplication() -> None:
    plan = plan_repair(
        [_entry("clear_cache", 9, 9)],
        _recommendation(("clear_cache", 0.7), ("add_index", 0.3)),
        [
            ("stuck_cache", "clear_cache", 0.9),
            ("slow_query", "add_index", 0.9),
            ("db_pool_exhaustion", "reset_db_connections", 0.9),
            ("service_crash", "restart_service", 0.9),
        ],
        confidence=0.9,
    )
    assert _plan(plan) == [
        ("clear_cache", "playbook"),
        ("add_index", "classifier"),
        ("reset_db_connections", "runbook"),
    ]


@pytest.mark.parametrize("max_attempts", [0, 1, 2])
def test_max_attempts_caps_the_plan(max_attempts: int) -> None:
    candidates = [
        ("a", "clear_cache", 0.9),
        ("b", "add_index", 0.9),
        ("c", "restart_service", 0.9),
    ]
    plan = plan_repair([], None, candidates, 0.9, PlanPolicy(max_attempts=max_attempts))
    assert [step.strategy for step in plan] == ["clear_cache", "add_index", "restart_service"][
        :max_attempts
    ]


def test_high_risk_only_as_the_top_candidates_known_fix() -> None:
    policy = PlanPolicy(high_risk=frozenset({"restore_from_backup", "add_index"}))
    proven = [PlaybookEntry("sig", "restore_from_backup", attempts=9, successes=9)]
    plan = plan_repair(proven, None, [("db_unreachable", "reset_db_connections", 0.9)], 0.8, policy)
    assert [step.strategy for step in plan] == ["reset_db_connections"]
    candidates = [("slow_query", "add_index", 0.9), ("db_unreachable", "restore_from_backup", 0.6)]
    plan = plan_repair([], None, candidates, 0.8, policy)
    assert [step.strategy for step in plan] == ["add_index"]
    assert len(plan_repair([], None, candidates, 0.8)) == 2  # no risk known: both stay
