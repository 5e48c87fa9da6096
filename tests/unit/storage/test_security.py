"""SecurityStore: findings and decisions round-trip; bans and escalation survive a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from selfheal_ml.security.ban_policy import BanPolicy, BanSettings, DecisionAction, Refusal
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.security import SecurityStore

START = datetime(2026, 12, 10, 7, tzinfo=UTC)


def finding(value: str, minutes: float, kind: FindingKind = FindingKind.BRUTE_FORCE) -> Finding:
    at = START + timedelta(minutes=minutes)
    return Finding(kind, Scope.IP, value, at - timedelta(seconds=30), at, 5, ("l1", "l2"), "x")


def test_findings_round_trip() -> None:
    store = SecurityStore(Database(":memory:"))
    original = finding("192.0.2.1", 0)
    assert store.append_findings([original]) == 1
    assert store.findings() == [original]


def test_decisions_survive_a_restart_and_escalation_continues(tmp_path: Path) -> None:
    path = tmp_path / "selfheal.duckdb"
    database = Database(path)
    store = SecurityStore(database)
    policy = BanPolicy()
    decisions = [policy.decide(finding("192.0.2.1", 0)), policy.decide(finding("127.0.0.1", 1))]
    store.append_decisions([d for d in decisions if d is not None])
    database.close()

    reopened = Database(path)
    store = SecurityStore(reopened)
    assert [d.value for d in store.active_decisions(START + timedelta(minutes=5))] == ["192.0.2.1"]
    refused = [d for d in store.decisions() if d.action is DecisionAction.REFUSED]
    assert [(d.value, d.refusal) for d in refused] == [("127.0.0.1", Refusal.NEVER_BAN)]
    restarted = BanPolicy()
    restarted.restore(store.latest_decisions())
    assert restarted.is_banned("192.0.2.1", START + timedelta(minutes=5))
    second = restarted.decide(finding("192.0.2.1", 20))
    assert second is not None and second.offence == 2 and second.duration_s == 1200
    store.append_decisions([second])
    assert [(d.value, d.offence) for d in store.latest_decisions()] == [("192.0.2.1", 2)]
    assert store.decisions(since=START + timedelta(minutes=10)) == [second]
    reopened.close()


def test_dry_run_decisions_are_stored_as_would_ban() -> None:
    store = SecurityStore(Database(":memory:"))
    decision = BanPolicy(BanSettings(dry_run=True)).decide(finding("192.0.2.1", 0))
    assert decision is not None
    store.append_decisions([decision])
    (stored,) = store.decisions()
    assert stored == decision and stored.action is DecisionAction.WOULD_BAN
