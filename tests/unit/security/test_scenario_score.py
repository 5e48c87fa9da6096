"""Scenario 3's score: detection by address or target, first and full block, wrong blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.security.never_ban import NeverBanList
from selfheal_ml.security.scenario_score import (
    AttackTruth,
    SeenBan,
    SeenFinding,
    score_attacks,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_distributed_attack_is_detected_by_account_and_fully_blocked_at_its_last_ban() -> None:
    addresses = ("203.0.113.1", "203.0.113.2")
    attack = AttackTruth("attack-1", "distributed_brute_force", "shop", addresses, _at(0),
                         _at(300), targets=("admin",))  # fmt: skip
    findings = [
        SeenFinding(_at(-50), "brute_force", "ip", "203.0.113.1"),  # before the attack
        SeenFinding(_at(5), "distributed_brute_force", "user", "admin"),
    ]
    bans = [SeenBan(_at(25), "203.0.113.2", "brute_force"), SeenBan(_at(40), "203.0.113.1", "x")]
    outcome = score_attacks([attack], findings, bans, legitimate={}).outcomes[0]
    assert outcome.time_to_detect_s == 5.0
    assert outcome.detected_as == ("distributed_brute_force",)
    assert (outcome.time_to_block_s, outcome.time_to_block_all_s) == (25.0, 40.0)


def test_missed_attack_and_wrong_blocks_by_role() -> None:
    attack = AttackTruth("attack-1", "scraping", "shop", ("203.0.113.9",), _at(0), _at(300))
    bans = [
        SeenBan(_at(10), "198.51.100.10", "brute_force"),
        SeenBan(_at(20), "192.0.2.10", "scraping"),
        SeenBan(_at(30), "127.0.0.1", "scraping"),
    ]
    legitimate = {"198.51.100.10": "user", "192.0.2.10": "health_checker"}
    report = score_attacks(
        [attack],
        [SeenFinding(_at(1), "unusual_access", "ip", "198.51.100.10")],
        bans,
        legitimate=legitimate,
        never_ban=NeverBanList(),
    )
    figures = report.as_dict()
    assert figures["attacks_detected"] == 0 and figures["attacks_blocked"] == 0
    assert figures["every_kind_detected"] is False
    assert figures["wrong_blocks_by_role"] == {"user": 1, "health_checker": 1, "never_ban": 1}
    assert figures["legitimate_flagged"] == {"unusual_access": 1}
    assert figures["by_kind"]["scraping"]["detected"] == 0


def test_rate_anomalies_and_attack_incidents_are_joined_to_the_attack_by_time_and_platform() -> (
    None
):
    from selfheal_ml.security.scenario_score import SeenSignal

    attack = AttackTruth("attack-1", "brute_force", "shop", ("203.0.113.1",), _at(0), _at(300))
    anomalies = [
        SeenSignal(_at(60), "security_failed_logins_per_s"),
        SeenSignal(_at(5000), "security_requests_per_s"),  # long after: not this attack's
    ]
    incidents = [
        SeenSignal(_at(50), "brute_force_login", ("blog",)),  # another platform
        SeenSignal(_at(90), "brute_force_login", ("shop",)),
    ]
    report = score_attacks([attack], [], [], legitimate={}, rate_anomalies=anomalies,
                           incidents=incidents)  # fmt: skip
    figures = report.as_dict()
    assert figures["per_attack"][0]["rate_anomaly_after_s"] == 60.0
    assert figures["per_attack"][0]["incident_after_s"] == 90.0
    assert (figures["rate_anomalies"], figures["rate_anomalies_outside_attacks"]) == (2, 1)
    assert figures["attacks_confirmed_by_incident"] == 1


def test_an_attack_with_a_monitor_and_a_security_incident_has_two() -> None:
    from selfheal_ml.security.scenario_score import SeenSignal

    attack = AttackTruth("attack-1", "brute_force", "shop", ("203.0.113.1",), _at(0), _at(300))
    merged = [SeenSignal(_at(8), "brute_force", ("shop",), "i1")]
    apart = [*merged, SeenSignal(_at(130), "brute_force_login", ("shop",), "i2")]
    one = score_attacks([attack], [], [], legitimate={}, incidents=merged).as_dict()
    two = score_attacks([attack], [], [], legitimate={}, incidents=apart).as_dict()
    assert (one["attacks_with_one_incident"], one["per_attack"][0]["incidents"]) == (1, 1)
    assert (two["attacks_with_one_incident"], two["attacks_with_several_incidents"]) == (0, 1)
