"""Ban policy: durations and escalation, never-ban, cap, dry run, restore after restart."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.security.ban_policy import (
    BanPolicy,
    BanSettings,
    DecisionAction,
    Refusal,
)
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.security.never_ban import NeverBanList

from .conftest import at


def finding(value: str, seconds: float, kind: FindingKind = FindingKind.BRUTE_FORCE) -> Finding:
    scope = Scope.USER if kind is FindingKind.DISTRIBUTED_BRUTE_FORCE else Scope.IP
    return Finding(kind, scope, value, at(seconds - 30), at(seconds), 5, ("line",))


def test_repeat_offender_bans_double_up_to_the_cap() -> None:
    policy = BanPolicy(BanSettings(bantime_s=600, factor=2, max_bantime_s=2000))
    durations = []
    clock = 0.0
    for _ in range(4):
        decision = policy.decide(finding("192.0.2.1", clock))
        assert decision is not None and decision.action is DecisionAction.BAN
        durations.append(decision.duration_s)
        clock += decision.duration_s + 1
    assert durations == [600, 1200, 2000, 2000]
    assert policy.offences("192.0.2.1") == 4


def test_no_second_decision_while_banned_and_ban_expires() -> None:
    policy = BanPolicy()
    first = policy.decide(finding("192.0.2.1", 0))
    assert first is not None and policy.is_banned("192.0.2.1", at(599))
    assert policy.decide(finding("192.0.2.1", 300)) is None
    assert not policy.is_banned("192.0.2.1", at(600))
    assert policy.active(at(600)) == []


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.20.30.40", "::ffff:10.0.0.1"])
def test_never_ban_addresses_are_refused_with_the_reason(address: str) -> None:
    policy = BanPolicy(never_ban=NeverBanList(["10.0.0.0/8"]))
    decision = policy.decide(finding(address, 0))
    assert decision is not None
    assert decision.action is DecisionAction.REFUSED and decision.refusal is Refusal.NEVER_BAN
    assert not policy.is_banned(address, at(1))


def test_host_names_are_not_banned() -> None:
    decision = BanPolicy().decide(finding("ec2-52-80-34-196.example.com", 0))
    assert decision is not None and decision.refusal is Refusal.NOT_AN_ADDRESS


def test_cap_on_new_bans_per_minute() -> None:
    policy = BanPolicy(BanSettings(max_new_bans_per_minute=3))
    actions = [policy.decide(finding(f"192.0.2.{i}", i)) for i in range(5)]
    assert [d.action for d in actions if d] == [DecisionAction.BAN] * 3 + [
        DecisionAction.REFUSED
    ] * 2
    later = policy.decide(finding("192.0.2.99", 61))
    assert later is not None and later.action is DecisionAction.BAN


def test_dry_run_records_would_ban_and_never_enforces() -> None:
    policy = BanPolicy(BanSettings(dry_run=True))
    decision = policy.decide(finding("192.0.2.1", 0))
    assert decision is not None and decision.action is DecisionAction.WOULD_BAN
    assert not decision.enforced and not policy.is_banned("192.0.2.1", at(1))
    assert [d.value for d in policy.active(at(1))] == ["192.0.2.1"]


def test_account_findings_and_novelty_do_not_ban() -> None:
    policy = BanPolicy()
    assert policy.decide(finding("alice", 0, FindingKind.DISTRIBUTED_BRUTE_FORCE)) is None
    assert policy.decide(finding("192.0.2.1", 0, FindingKind.UNUSUAL_ACCESS)) is None


def test_restore_keeps_bans_and_escalation_across_a_restart() -> None:
    before = BanPolicy()
    first = before.decide(finding("192.0.2.1", 0))
    assert first is not None
    after = BanPolicy()
    after.restore([first])
    assert after.is_banned("192.0.2.1", at(10))
    second = after.decide(finding("192.0.2.1", 700))
    assert second is not None and second.offence == 2 and second.duration_s == 1200


def test_bad_never_ban_entry_names_the_setting() -> None:
    with pytest.raises(ValueError, match="never_ban"):
        NeverBanList(["10.0.0.0/33"])


@given(
    st.lists(
        st.tuples(st.ip_addresses(v=4).map(str), st.floats(min_value=0, max_value=3600)),
        max_size=40,
    )
)
def test_never_ban_networks_are_never_banned_whatever_the_findings(
    events: list[tuple[str, float]],
) -> None:
    policy = BanPolicy(never_ban=NeverBanList(["10.0.0.0/8", "192.168.0.0/16"]))
    for address, seconds in sorted(events, key=lambda event: event[1]):
        decision = policy.decide(finding(address, seconds))
        if decision is not None and policy.never_ban.covers(address):
            assert decision.action is DecisionAction.REFUSED
        assert not (policy.never_ban.covers(address) and policy.is_banned(address, at(seconds)))
