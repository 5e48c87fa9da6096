"""The simulator's traffic: legitimate users and health checkers never trip a ban rule, every
attack kind is in the log from its own addresses (and caught by the detector where a rule
exists), and banned addresses are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.security.json_lines import JsonLinesParser
from selfheal_ml.security.records import LogRecord
from selfheal_ml.sim.traffic import HEALTH_CHECKERS, USER_ADDRESSES, AttackKind, TrafficModel

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PLATFORMS = ("shop", "api")


def records(events: list[dict[str, object]]) -> list[LogRecord]:
    parser = JsonLinesParser()
    parsed = [parser.parse(json.dumps(event)) for event in events]
    assert all(isinstance(record, LogRecord) for record in parsed)  # every line is well-formed
    return [record for record in parsed if isinstance(record, LogRecord)]


def run(model: TrafficModel, minutes: int, banned: frozenset[str] = frozenset()) -> list[Finding]:
    detector = AttackDetector()
    findings = []
    for minute in range(minutes):
        start = T0 + timedelta(minutes=minute)
        events = model.events(start, start + timedelta(minutes=1), lambda a: a in banned)
        findings.extend(detector.observe(records(events)))
    return findings


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_hours_of_legitimate_traffic_trip_no_ban_rule(seed: int) -> None:
    model = TrafficModel(platforms=PLATFORMS, seed=seed)
    findings = run(model, 120)
    innocent = set(USER_ADDRESSES.values()) | set(HEALTH_CHECKERS)
    assert [f for f in findings if f.confirmed_attack and f.value in innocent] == []


@pytest.mark.parametrize(
    ("kind", "finding", "scope"),
    [
        (AttackKind.BRUTE_FORCE, FindingKind.BRUTE_FORCE, Scope.IP),
        (AttackKind.CREDENTIAL_STUFFING, FindingKind.CREDENTIAL_STUFFING, Scope.IP),
        (AttackKind.DISTRIBUTED_BRUTE_FORCE, FindingKind.DISTRIBUTED_BRUTE_FORCE, Scope.USER),
        (AttackKind.SCRAPING, FindingKind.SCRAPING, Scope.IP),
        (AttackKind.API_KEY_MISUSE, FindingKind.API_KEY_MISUSE, Scope.API_KEY),
    ],
)
def test_every_attack_kind_is_caught_by_its_rule(
    kind: AttackKind, finding: FindingKind, scope: Scope
) -> None:
    model = TrafficModel(platforms=PLATFORMS, seed=3)
    attack = model.start_attack(kind, "shop", T0 + timedelta(minutes=1), duration_s=240)
    found = [f for f in run(model, 6) if f.kind is finding and f.scope is scope]
    assert found, f"no {finding.value} finding"
    if scope is Scope.IP:
        assert {f.value for f in found} <= set(attack.addresses)
    assert min(f.detected_at for f in found) - attack.started_at < timedelta(seconds=30)
    assert attack.requests > 0 and attack.refused == 0


def test_injection_probes_carry_their_payloads() -> None:
    model = TrafficModel(platforms=PLATFORMS, seed=4)
    attack = model.start_attack(AttackKind.INJECTION_PROBE, "api", T0, duration_s=60)
    events = model.events(T0, T0 + timedelta(seconds=60), lambda a: False)
    probes = [e for e in events if e["ip"] in attack.addresses]
    assert len(probes) > 60
    assert any("UNION SELECT" in str(e["path"]) for e in probes)
    assert any("<script>" in str(e["body"]) for e in probes)


def test_a_banned_attacker_is_refused_and_its_logins_stop() -> None:
    model = TrafficModel(platforms=PLATFORMS, seed=5)
    attack = model.start_attack(AttackKind.BRUTE_FORCE, "shop", T0, duration_s=60)
    events = model.events(T0, T0 + timedelta(seconds=60), lambda a: a in attack.addresses)
    mine = [e for e in events if e["ip"] in attack.addresses]
    assert mine and all(e["status"] == 403 and e["event"] == "request" for e in mine)
    assert attack.refused == attack.requests == len(mine)
    assert attack.first_refused_at is not None
