"""Attack incidents: grouping by platform, the root cause's rank, bans, resolution, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.diagnosis.attacks import AttackBook, attack_diagnosis

START = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_a_confirmed_finding_is_an_incident_diagnosed_at_once() -> None:
    book = AttackBook()
    incident, due = book.found("brute_force", "203.0.113.5", "shop", at(0), "c1", ("l1", "l2"))
    assert due
    diagnosis = attack_diagnosis(incident, book.published(incident))
    assert (diagnosis.revision, diagnosis.label, diagnosis.platforms) == (
        1,
        "brute_force@shop",
        ("shop",),
    )
    assert diagnosis.strategy == "block_ip" and diagnosis.enforced_by == "Security"
    assert diagnosis.severity == "critical" and diagnosis.evidence == ("l1", "l2")
    assert "203.0.113.5" in diagnosis.summary
    assert diagnosis.root_causes == ("brute_force@shop",)


def test_findings_on_one_platform_join_and_a_campaign_outranks_its_addresses() -> None:
    book = AttackBook()
    first, _ = book.found("brute_force", "100.64.0.1", "shop", at(0), "c1")
    book.published(first)
    second, due = book.found("brute_force", "100.64.0.2", "shop", at(5), "c2")
    assert second is first and not due  # same cause: no new revision
    third, due = book.found("distributed_brute_force", "admin", "shop", at(9), "c3")
    assert third is first and due
    diagnosis = attack_diagnosis(first, book.published(first))
    assert (diagnosis.revision, diagnosis.root_cause) == (2, "distributed_brute_force")
    other, due = book.found("injection", "203.0.113.9", "blog", at(10), "c4")
    assert other is not first and due  # another platform, another incident


def test_resolved_when_every_banned_address_stopped() -> None:
    book = AttackBook()
    incident, _ = book.found("brute_force", "100.64.0.1", "shop", at(0), "c1")
    book.found("brute_force", "100.64.0.2", "shop", at(5), "c2")
    assert book.banned("c1", "100.64.0.1", at(600)) is incident
    assert book.banned("c2", "100.64.0.2", at(605)) is incident
    assert book.banned("unknown", "100.64.0.3", at(605)) is None
    assert book.stopped("100.64.0.1") is incident and not incident.resolved
    assert book.stopped("100.64.0.2") is incident and incident.resolved
    book.close(incident)
    assert book.open == {} and book.stopped("100.64.0.1") is None
    again, due = book.found("brute_force", "100.64.0.1", "shop", at(900), "c5")
    assert again is not incident and due  # a closed incident takes no new finding


def test_never_banned_is_escalated_once_quiet() -> None:
    book = AttackBook(quiet_s=600)
    key, _ = book.found("api_key_misuse", "key-user00", "shop", at(0), "c1")
    assert attack_diagnosis(key, 1).strategy is None  # nothing to ban: a key to revoke
    book.found("brute_force", "203.0.113.5", "blog", at(0), "c2")
    book.banned("c2", "203.0.113.5", at(600))
    assert book.unanswered(at(599)) == []
    assert book.unanswered(at(600)) == [key]
    assert book.unanswered(at(5000)) == [key]  # a banned one is never escalated


def test_bans_that_ran_out_close_the_incident_only_if_nothing_came_back() -> None:
    # a long attack outlives its first ban: found again within seconds, banned for longer
    book = AttackBook(quiet_s=600)
    incident, _ = book.found("brute_force", "203.0.113.5", "shop", at(0), "c1")
    book.banned("c1", "203.0.113.5", at(600))
    assert book.lapsed(at(600)) == []  # the ban just ran out: wait
    book.found("brute_force", "203.0.113.5", "shop", at(610), "c2")
    book.banned("c2", "203.0.113.5", at(1810))
    assert book.lapsed(at(1300)) == [] and book.lapsed(at(2409)) == []
    assert book.lapsed(at(2410)) == [incident]
