"""The safety guard, check by check, in virtual time (SimClock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.actions import TRANSIENT_REFUSALS, GuardPolicy, Refusal, RepairRequest, SafetyGuard
from selfheal_ml.clock import SimClock
from selfheal_ml.errors import ConfigError

START = datetime(2026, 1, 5, tzinfo=UTC)


def request(action: str = "restart_service", target: str = "p1", **kwargs: object) -> RepairRequest:
    return RepairRequest("inc-1", "corr-1", action, target, **kwargs)  # type: ignore[arg-type]


def run(guard: SafetyGuard, item: RepairRequest, now: datetime) -> str:
    """Check, and start the action if allowed (what the service does); the decision word."""
    decision = guard.check(item, now)
    if decision.allowed:
        guard.record_start(item, now)
    return decision.decision


def test_global_switch_off_refuses_everything() -> None:
    guard = SafetyGuard(GuardPolicy(enabled=False))
    decision = guard.check(request(), START)
    assert (decision.allowed, decision.decision) == (False, "refused")
    assert "switched off" in decision.reason


def test_dry_run_allows_nothing_but_says_what_would_happen() -> None:
    guard = SafetyGuard(GuardPolicy(auto_repair=False, platform_count=4))
    allowed = guard.check(request(), START)
    assert (allowed.allowed, allowed.decision) == (False, "dry_run")
    assert "would execute" in allowed.reason
    forbidden = guard.check(request("drop_database"), START)
    assert forbidden.decision == "dry_run" and "not on the allow-list" in forbidden.reason


def test_allow_list_refuses_unknown_actions() -> None:
    decision = SafetyGuard(GuardPolicy()).check(request("rm_rf"), START)
    assert decision.decision == "refused" and "rm_rf" in decision.reason
    assert decision.refusal is Refusal.NOT_ALLOWED and decision.refusal not in TRANSIENT_REFUSALS


def test_high_risk_waits_for_approval_and_request_cannot_lower_the_tier() -> None:
    guard = SafetyGuard(GuardPolicy(risk_tiers={"add_index": "high", "clear_cache": "low"}))
    assert guard.check(request("add_index", risk="low"), START).decision == "pending_approval"
    assert guard.check(request("clear_cache", risk="high"), START).decision == "pending_approval"
    approved = guard.check(request("add_index"), START, approved=True)
    assert approved.allowed and "approved" in approved.reason


def test_cooldown_holds_then_releases(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=120, rate_limit=10, platform_count=4))
    assert run(guard, request(), sim_clock.now()) == "executed"
    sim_clock.advance(119)
    refused = guard.check(request("clear_cache"), sim_clock.now())
    assert refused.decision == "refused" and "cooling down" in refused.reason
    assert refused.refusal is Refusal.COOLING_DOWN and refused.refusal in TRANSIENT_REFUSALS
    assert guard.check(request(target="p2"), sim_clock.now()).allowed  # per target
    sim_clock.advance(1)
    assert guard.check(request(), sim_clock.now()).allowed


def test_rate_limit_holds_within_the_window(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=0, rate_limit=3, rate_window_s=600))
    decisions = []
    for _ in range(5):
        decisions.append(run(guard, request(), sim_clock.now()))
        sim_clock.advance(60)
    assert decisions == ["executed"] * 3 + ["refused"] * 2
    assert "rate limit" in guard.check(request(), sim_clock.now()).reason
    sim_clock.advance(600 - 5 * 60)  # the first execution leaves the window
    assert guard.check(request(), sim_clock.now()).allowed


def test_breaker_opens_after_k_ineffective_attempts_and_escalates(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=0, breaker_threshold=3, breaker_cooloff_s=None))
    opened = []
    for _ in range(3):
        assert guard.check(request(), sim_clock.now()).allowed
        ticket = guard.record_start(request(), sim_clock.now())
        opened.append(guard.record_outcome(ticket, worked=False, now=sim_clock.now()))
        sim_clock.advance(10)
    assert opened == [False, False, True]
    refused = guard.check(request(), sim_clock.now() + timedelta(days=30))
    assert refused.decision == "refused" and refused.escalate and "breaker" in refused.reason
    guard.reset_breaker("p1")
    assert guard.check(request(), sim_clock.now()).allowed


def test_breaker_worked_outcome_resets_the_count(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=0, breaker_threshold=2))
    for worked in (False, True, False):
        ticket = guard.record_start(request(), sim_clock.now())
        guard.record_outcome(ticket, worked, sim_clock.now())
    assert not guard.breaker_open("p1", sim_clock.now())


def test_breaker_half_opens_after_cooloff_for_one_trial(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=0, breaker_threshold=1, breaker_cooloff_s=600))
    ticket = guard.record_start(request(), sim_clock.now())
    guard.record_outcome(ticket, worked=False, now=sim_clock.now())
    sim_clock.advance(599)
    assert not guard.check(request(), sim_clock.now()).allowed
    sim_clock.advance(1)
    assert run(guard, request(), sim_clock.now()) == "executed"  # the trial
    second = guard.check(request(), sim_clock.now())
    assert not second.allowed and "half-open" in second.reason


def test_a_working_trial_closes_the_breaker(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(cooldown_s=0, breaker_threshold=1, breaker_cooloff_s=60))
    guard.record_outcome(guard.record_start(request(), sim_clock.now()), False, sim_clock.now())
    sim_clock.advance(60)
    trial = guard.record_start(request(), sim_clock.now())
    guard.record_outcome(trial, worked=True, now=sim_clock.now())
    assert guard.check(request(), sim_clock.now()).allowed
    ticket = guard.record_start(request(), sim_clock.now())
    assert guard.record_outcome(ticket, worked=False, now=sim_clock.now())  # opens afresh


def test_requests_are_hashable() -> None:
    assert len({request(params={"a": 1}), request(params={"a": 1})}) == 1


def test_blast_radius_cap_counts_in_flight_actions(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(platform_count=5, max_platform_share=0.4))  # cap 2
    first = guard.record_start(request(target="p1"), sim_clock.now())
    assert run(guard, request(target="p2"), sim_clock.now()) == "executed"
    refused = guard.check(request(target="p3"), sim_clock.now())
    assert refused.decision == "refused" and "blast-radius" in refused.reason
    assert refused.refusal is Refusal.BLAST_RADIUS
    assert "cooling down" in guard.check(request(target="p1"), sim_clock.now()).reason
    # another target on a platform already in flight does not widen the blast radius
    same_platform = request("pg_terminate_idle", target="db-of-p2", platform="p2")
    assert guard.check(same_platform, sim_clock.now()).allowed
    guard.record_outcome(first, worked=True, now=sim_clock.now())
    assert guard.check(request(target="p3"), sim_clock.now()).allowed


def test_stale_in_flight_actions_stop_counting(sim_clock: SimClock) -> None:
    guard = SafetyGuard(GuardPolicy(platform_count=2, in_flight_timeout_s=300))  # cap 1
    guard.record_start(request(target="p1"), sim_clock.now())
    assert not guard.check(request(target="p2"), sim_clock.now()).allowed
    sim_clock.advance(300)
    assert guard.check(request(target="p2"), sim_clock.now()).allowed


@pytest.mark.parametrize(
    ("field", "value"),
    [("rate_limit", 0), ("cooldown_s", -1.0), ("max_platform_share", 1.5), ("platform_count", 0)],
)
def test_policy_refuses_unusable_limits_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        GuardPolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.setting == field


@settings(max_examples=60, deadline=None)
@given(
    gaps_s=st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=40),
    targets=st.lists(st.sampled_from(["p1", "p2"]), min_size=40, max_size=40),
    rate_limit=st.integers(min_value=1, max_value=4),
    window_s=st.floats(min_value=1, max_value=1800),
    cooldown_s=st.sampled_from([0.0, 30.0]),
)
def test_never_more_than_the_rate_limit_in_any_window(
    gaps_s: list[float], targets: list[str], rate_limit: int, window_s: float, cooldown_s: float
) -> None:
    policy = GuardPolicy(
        cooldown_s=cooldown_s,
        rate_limit=rate_limit,
        rate_window_s=window_s,
        platform_count=2,
        max_platform_share=1.0,
    )
    guard, clock = SafetyGuard(policy), SimClock(START)
    executed: dict[str, list[datetime]] = {"p1": [], "p2": []}
    for gap_s, target in zip(gaps_s, targets, strict=False):
        clock.advance(gap_s)
        if run(guard, request(target=target), clock.now()) == "executed":
            executed[target].append(clock.now())
    window = timedelta(seconds=window_s)
    for times in executed.values():
        for index, moment in enumerate(times):  # windows (moment - window, moment]
            in_window = [t for t in times[: index + 1] if t > moment - window]
            assert len(in_window) <= rate_limit
