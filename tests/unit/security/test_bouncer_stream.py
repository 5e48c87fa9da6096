"""The CrowdSec bouncer protocol's pure parts: durations, ids, per-bouncer deltas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.security.ban_policy import BanDecision, BanPolicy, BanSettings
from selfheal_ml.security.bouncer_stream import BouncerStream, decision_id, go_duration, matching
from selfheal_ml.security.findings import Finding, FindingKind, Scope

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def banned(policy: BanPolicy, address: str, at: datetime) -> BanDecision:
    finding = Finding(FindingKind.BRUTE_FORCE, Scope.IP, address, at, at, 5)
    decision = policy.decide(finding)
    assert decision is not None
    return decision


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(14390.9, "3h59m50s"), (3600, "1h0m0s"), (61, "1m1s"), (0.4, "0s"), (-1.5, "-1s")],
)
def test_go_duration_writes_what_go_parses(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_decision_ids_are_stable_and_tell_offences_apart() -> None:
    policy = BanPolicy()
    first = banned(policy, "198.51.100.1", T0)
    second = banned(policy, "198.51.100.1", T0 + timedelta(hours=1))
    assert decision_id(first) == decision_id(first)
    assert decision_id(first) != decision_id(second)
    assert 0 < decision_id(first) < 2**48


def test_a_replaced_ban_is_not_sent_as_deleted() -> None:
    policy = BanPolicy(BanSettings(bantime_s=60))
    stream = BouncerStream()
    first = banned(policy, "198.51.100.1", T0)
    assert len(stream.pull("b", [first], T0, startup=True).new) == 1
    later = T0 + timedelta(seconds=61)
    second = banned(policy, "198.51.100.1", later)
    update = stream.pull("b", [first, second], later, startup=False)
    assert [d["value"] for d in update.new] == ["198.51.100.1"]
    assert update.new[0]["id"] == decision_id(second)
    assert update.deleted == []  # the address is still banned: no removal may race the add


def test_an_unknown_bouncer_gets_everything_and_dry_runs_never() -> None:
    stream = BouncerStream()
    real = banned(BanPolicy(), "198.51.100.1", T0)
    simulated = banned(BanPolicy(BanSettings(dry_run=True)), "198.51.100.2", T0)
    update = stream.pull("new-bouncer", [real, simulated], T0, startup=False)
    assert [d["value"] for d in update.new] == ["198.51.100.1"]
    assert stream.bouncers() == ["new-bouncer"]


def test_matching_compares_addresses_not_text() -> None:
    ban = banned(BanPolicy(), "198.51.100.1", T0)
    assert matching([ban], "::ffff:198.51.100.1", T0) == [ban]
    assert matching([ban], "198.51.100.10", T0) == []
    assert matching([ban], "not-an-ip", T0) == []
    assert matching([ban], "198.51.100.1", T0 + timedelta(seconds=600)) == []
