"""The detector: every attack kind from synthetic records, and the pluggable payload scorer."""

from __future__ import annotations

from collections.abc import Sequence

from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.security.payload import PayloadScorer
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.rules import DetectionRules, JailRule, NoveltyRule

from .conftest import at, failure, request


class KeywordScorer:
    """Test double for the request classifier: flags payloads containing a marker."""

    threshold = 0.5

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, texts: Sequence[str]) -> Sequence[float]:
        self.calls.append(len(texts))
        return [1.0 if "UNION SELECT" in text else 0.0 for text in texts]


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, str]]:
    return [(finding.kind, finding.value) for finding in findings]


def test_brute_force_five_failures_in_ten_minutes() -> None:
    findings = AttackDetector().observe([failure(60 * i, "192.0.2.1") for i in range(5)])
    assert kinds(findings) == [(FindingKind.BRUTE_FORCE, "192.0.2.1")]
    (finding,) = findings
    assert finding.first_seen == at(0) and finding.detected_at == at(240)
    assert finding.event_count == 5 and len(finding.evidence) == 5


def test_four_failures_and_a_slow_pace_on_a_real_account_are_not_attacks() -> None:
    detector = AttackDetector()
    assert detector.observe([failure(i, "192.0.2.1") for i in range(4)]) == []
    # one failure every 20 minutes on an existing account: never 5 within 600 s
    assert detector.observe([failure(1200 * i, "192.0.2.2") for i in range(10)]) == []


def accepted(seconds: float, ip: str, user: str) -> LogRecord:
    return LogRecord(at(seconds), EventKind.LOGIN_OK, source_ip=ip, user=user, raw="ok")


def test_a_typo_followed_by_a_login_is_forgiven() -> None:
    # what banned a simulated user over 21 days: five typos within ten minutes, each followed
    # 3 s later by the right password (docs/benchmarks.md, "13: Scenario 3 ...")
    records = []
    for i in range(6):
        records += [failure(90 * i, "198.51.100.22", "user12"), accepted(90 * i + 3,
                    "198.51.100.22", "user12")]  # fmt: skip
    assert AttackDetector().observe(records) == []


def test_a_login_forgives_only_its_own_account() -> None:
    # an attacker with one valid account cannot wipe the guesses on others (fail2ban#1243)
    records = [failure(i, "192.0.2.5", "root") for i in range(4)]
    records += [accepted(5, "192.0.2.5", "mallory"), failure(6, "192.0.2.5", "root")]
    assert kinds(AttackDetector().observe(records)) == [(FindingKind.BRUTE_FORCE, "192.0.2.5")]
    # nor does a login for the same account from another address
    records = [failure(100 + i, "192.0.2.6", "root") for i in range(4)]
    records += [accepted(105, "192.0.2.7", "root"), failure(106, "192.0.2.6", "root")]
    assert kinds(AttackDetector().observe(records)) == [(FindingKind.BRUTE_FORCE, "192.0.2.6")]


def test_forgiveness_can_be_switched_off() -> None:
    rules = DetectionRules(brute_force=JailRule(forgive_on_success=False))
    records = []
    for i in range(5):
        records += [failure(90 * i, "198.51.100.22", "user12"), accepted(90 * i + 3,
                    "198.51.100.22", "user12")]  # fmt: skip
    found = AttackDetector(rules).observe(records)
    assert kinds(found) == [(FindingKind.BRUTE_FORCE, "198.51.100.22")]


def test_slow_brute_force_on_unknown_accounts_over_a_day() -> None:
    records = [failure(2900 * i, "192.0.2.3", f"test{i}", unknown=True) for i in range(5)]
    assert kinds(AttackDetector().observe(records)) == [(FindingKind.SLOW_BRUTE_FORCE, "192.0.2.3")]


def test_credential_stuffing_counts_accepted_logins_too() -> None:
    records = [
        LogRecord(at(i), EventKind.LOGIN_OK, source_ip="192.0.2.4", user=f"user{i}")
        for i in range(11)
    ]
    findings = AttackDetector().observe(records)
    assert kinds(findings) == [(FindingKind.CREDENTIAL_STUFFING, "192.0.2.4")]
    assert findings[0].event_count == 11


def test_distributed_brute_force_is_about_the_account() -> None:
    records = [failure(i, f"198.51.100.{i}", "alice") for i in range(11)]
    findings = AttackDetector().observe(records)
    assert kinds(findings)[0] == (FindingKind.DISTRIBUTED_BRUTE_FORCE, "alice")
    assert findings[0].scope is Scope.USER
    assert all(f.scope is Scope.IP for f in findings[1:])  # its addresses (next test)


def test_scraping_burst_but_not_a_steady_client() -> None:
    detector = AttackDetector()
    steady = [request(0.5 * i, "192.0.2.5", f"/p/{i}") for i in range(2000)]
    assert not [f for f in detector.observe(steady) if f.kind is FindingKind.SCRAPING]
    burst = [request(0.01 * i, "192.0.2.6", f"/p/{i}") for i in range(400)]
    assert (FindingKind.SCRAPING, "192.0.2.6") in kinds(detector.observe(burst))


def test_leaked_api_key_used_from_new_addresses() -> None:
    records = [request(60 * i, f"203.0.113.{i}", api_key="key-123") for i in range(4)]
    findings = AttackDetector().observe(records)
    assert kinds(findings) == [(FindingKind.API_KEY_MISUSE, "key-123")]
    assert findings[0].scope is Scope.API_KEY


def test_injection_probes_through_the_scorer_scored_in_one_batch() -> None:
    scorer = KeywordScorer()
    assert isinstance(scorer, PayloadScorer)
    records = [request(i, "192.0.2.7", "/item?id=1 UNION SELECT password") for i in range(3)]
    records += [request(5, "192.0.2.8", "/item?id=1")]
    findings = AttackDetector(scorer=scorer).observe(records)
    assert kinds(findings) == [(FindingKind.INJECTION, "192.0.2.7")]
    assert scorer.calls == [4]


def test_no_scorer_no_injection_rule() -> None:
    records = [request(i, "192.0.2.7", "/item?id=1 UNION SELECT password") for i in range(5)]
    assert AttackDetector().observe(records) == []


def test_novelty_flags_a_source_unlike_the_others() -> None:
    rules = DetectionRules(novelty=NoveltyRule(threshold=0.8, warmup_events=300))
    detector = AttackDetector(rules, seed=7)
    normal = [request(2.0 * i, f"10.0.{i % 40}.1", f"/page/{i % 5}") for i in range(3000)]
    assert not [f for f in detector.observe(normal) if f.kind is FindingKind.UNUSUAL_ACCESS]
    odd = [
        LogRecord(
            at(6000 + 0.05 * i),
            EventKind.REQUEST,
            source_ip="192.0.2.99",
            method="POST",
            path=f"/admin/{i}",
            status=404,
        )
        for i in range(60)
    ]
    unusual = [f for f in detector.observe(odd) if f.kind is FindingKind.UNUSUAL_ACCESS]
    assert [f.value for f in unusual] == ["192.0.2.99"]  # once: then the cooldown holds


def test_a_fast_attack_on_unknown_accounts_is_reported_once() -> None:
    records = [failure(i, "192.0.2.9", f"guess{i}", unknown=True) for i in range(5)]
    assert kinds(AttackDetector().observe(records)) == [(FindingKind.BRUTE_FORCE, "192.0.2.9")]


def test_a_distributed_brute_force_names_each_address_taking_part() -> None:
    # the held-out run's late block: 40 addresses, 0.1 tries a second each, so the first to
    # fill the per-address jail took 32.6 s; the account's finding came after 12.6 s
    detector = AttackDetector()
    found = detector.observe([failure(i, f"203.0.113.{i}", "admin") for i in range(11)])
    assert (FindingKind.DISTRIBUTED_BRUTE_FORCE, "admin") in kinds(found)
    addresses = [f.value for f in found if f.scope is Scope.IP]
    assert addresses == [f"203.0.113.{i}" for i in range(11)]
    assert {f.kind for f in found} == {FindingKind.DISTRIBUTED_BRUTE_FORCE}
    # a newcomer is named at its first failure on the account, not after five
    later = detector.observe([failure(20, "203.0.113.50", "admin")])
    assert [(f.scope, f.value, f.first_seen) for f in later] == [(Scope.IP, "203.0.113.50", at(0))]


def test_the_attacked_accounts_owner_is_spared_and_other_accounts_are_untouched() -> None:
    owner = "198.51.100.7"
    records = [accepted(0, owner, "admin")]
    records += [failure(10 + i, f"203.0.113.{i}", "admin") for i in range(11)]
    records += [failure(30, owner, "admin"), failure(31, "198.51.100.8", "bob")]
    found = AttackDetector().observe(records)
    named = {f.value for f in found if f.scope is Scope.IP}
    assert owner not in named and "198.51.100.8" not in named
    assert len(named) == 11


def test_a_campaign_ends_after_its_quiet_time_and_can_be_switched_off() -> None:
    detector = AttackDetector()
    detector.observe([failure(i, f"203.0.113.{i}", "admin") for i in range(11)])
    assert detector.observe([failure(11 + 601, "203.0.113.60", "admin")]) == []
    rules = DetectionRules(distributed_campaign_s=0)
    found = AttackDetector(rules).observe(
        [failure(i, f"203.0.113.{i}", "admin") for i in range(11)]
    )
    assert [f.scope for f in found] == [Scope.USER]
