"""One incident per attack: the Monitor's signs of a brute force and the Security agent's
finding of it are merged in the Diagnostic agent (diagnosis/attack_merge.py)."""

from __future__ import annotations

from datetime import timedelta

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.diagnostic import DiagnosticAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import (
    AlertRaised,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    IpBlocked,
    SecurityThreatDetected,
    Tick,
)
from selfheal_ml.lifecycle import IncidentStatus


def agent(clock: SimClock) -> DiagnosticAgent:
    extras = {"platforms": ("shop", "other")}
    return DiagnosticAgent(AgentContext(bus=InMemoryEventBus(), clock=clock, extras=extras))


def threat(clock: SimClock, address: str, correlation: str) -> SecurityThreatDetected:
    return SecurityThreatDetected(
        ts=clock.now(), source="Security", correlation_id=correlation, kind="brute_force",
        source_ip=address, value=address, platform="shop", severity="critical",
        evidence="fail admin " + address, event_count=5,
    )  # fmt: skip


def alert(clock: SimClock, name: str, platform: str = "shop") -> AlertRaised:
    return AlertRaised(
        ts=clock.now(), source="Monitor", alertname=name, severity="critical",
        labels={"platform": platform}, annotations={"summary": name, "value": "40"},
    )  # fmt: skip


async def ticks(diagnostic: DiagnosticAgent, clock: SimClock, count: int = 5) -> list[Event]:
    """``count`` health checks a minute apart: everything they produced."""
    produced: list[Event] = []
    for _ in range(count):
        clock.advance(60)
        produced += await diagnostic.handle(Tick(ts=clock.now(), source="scheduler", kind="health"))
    return produced


def diagnoses(events: list[Event]) -> list[IncidentDiagnosed]:
    return [event for event in events if isinstance(event, IncidentDiagnosed)]


async def test_the_monitors_incident_of_an_attack_becomes_its_next_revision(
    sim_clock: SimClock,
) -> None:
    diagnostic = agent(sim_clock)
    (first,) = diagnoses(await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1")))
    sim_clock.advance(50)
    assert await diagnostic.handle(alert(sim_clock, "AuthFailureSpike")) == []
    (second,) = diagnoses(await ticks(diagnostic, sim_clock))
    assert second.incident_id == first.incident_id
    assert second.correlation_id == first.correlation_id
    details = second.diagnosis
    assert (details.revision, details.root_cause, details.enforced_by) == (
        2,
        "brute_force_login",
        None,
    )  # the Repair agent carries it from here
    assert details.strategy == "block_ip"
    assert details.severity == "critical"  # a confirmed attack, whatever the Monitor's signs
    assert any(f.startswith("security: brute_force on shop from 203.0.113.5") for f in
               details.findings)  # fmt: skip
    # the attack's own lifecycle stays quiet: no verifying, resolved or escalated of its own
    until = sim_clock.now() + timedelta(minutes=10)
    ban = IpBlocked(
        ts=sim_clock.now(), source="Security", correlation_id="c1", source_ip="203.0.113.5",
        until=until, reason="brute_force (offence 1)",
    )  # fmt: skip
    assert await diagnostic.handle(ban) == []
    later = await ticks(diagnostic, sim_clock, 15)
    assert [e for e in later if isinstance(e, IncidentStatusChanged)] == []
    # a second finding of the same attack joins silently
    assert diagnoses(await diagnostic.handle(threat(sim_clock, "203.0.113.6", "c2"))) == []


async def test_an_attack_found_after_the_monitors_diagnosis_joins_that_incident(
    sim_clock: SimClock,
) -> None:
    diagnostic = agent(sim_clock)
    await diagnostic.handle(alert(sim_clock, "AuthFailureSpike"))
    (monitor,) = diagnoses(await ticks(diagnostic, sim_clock))
    assert monitor.diagnosis.root_cause == "brute_force_login"
    assert await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1")) == []
    assert diagnostic.attacks.book.open["shop"].incident_id == monitor.incident_id
    # once that incident is resolved, a new attack is an incident of its own again
    resolved = IncidentStatusChanged(
        ts=sim_clock.now(), source="Repair", correlation_id=monitor.correlation_id,
        incident_id=monitor.incident_id, status=IncidentStatus.RESOLVED, reason="repaired",
    )  # fmt: skip
    await diagnostic.handle(resolved)
    assert diagnostic.attacks.book.open == {}
    (new,) = diagnoses(await diagnostic.handle(threat(sim_clock, "203.0.113.9", "c3")))
    assert new.incident_id != monitor.incident_id and new.diagnosis.enforced_by == "Security"


async def test_without_login_evidence_or_on_another_platform_incidents_stay_apart(
    sim_clock: SimClock,
) -> None:
    diagnostic = agent(sim_clock)
    (attack,) = diagnoses(await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1")))
    await diagnostic.handle(alert(sim_clock, "AuthFailureSpike", platform="other"))
    (other,) = diagnoses(await ticks(diagnostic, sim_clock))
    assert other.incident_id != attack.incident_id and other.diagnosis.platforms == ("other",)
    assert not diagnostic.attacks.book.open["shop"].handed_over


async def test_a_monitor_incident_that_went_quiet_releases_its_attack(sim_clock: SimClock) -> None:
    diagnostic = agent(sim_clock)
    await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1"))
    await diagnostic.handle(alert(sim_clock, "AuthFailureSpike"))
    await ticks(diagnostic, sim_clock, 2)
    assert diagnostic.attacks.book.open["shop"].handed_over
    await ticks(diagnostic, sim_clock, 32)  # the grouper's quiet time (1800 s) passes
    assert diagnostic.attacks.book.open == {}


async def test_the_scenario_log_counts_a_merged_incident_once(sim_clock: SimClock) -> None:
    from selfheal_ml.attack_scenario import SecurityLog

    diagnostic, log = agent(sim_clock), SecurityLog()
    for event in await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1")):
        await log.record(event)
    await diagnostic.handle(alert(sim_clock, "AuthFailureSpike"))
    for event in await ticks(diagnostic, sim_clock):
        await log.record(event)
    assert [(s.name, s.platforms) for s in log.attack_incidents] == [("brute_force", ("shop",))]


async def test_a_monitor_incident_open_before_the_attack_with_nothing_published_is_merged(
    sim_clock: SimClock,
) -> None:
    # dev seed 2001: noise opened a Monitor incident that explained nothing (examined,
    # nothing published); the brute force's failed logins then joined it
    diagnostic = agent(sim_clock)
    from selfheal_ml.events import AnomalyDetected

    def anomaly(series: str, value: float) -> AnomalyDetected:
        return AnomalyDetected(
            ts=sim_clock.now(), source="Predictive", series=f'{series}{{platform="shop"}}',
            value=value, score=30.0, expected_low=10.0, expected_high=30.0, detector="test",
            labels={"platform": "shop"},
        )  # fmt: skip

    await diagnostic.handle(anomaly("http_requests_per_s", 90.0))
    await diagnostic.handle(anomaly("host_cpu_percent", 60.0))
    assert diagnoses(await ticks(diagnostic, sim_clock, 2)) == []  # a campaign served fine
    (opened,) = diagnostic.grouper.open.values()
    assert opened.examined_at is not None and opened.diagnosed_at is None  # nothing published
    (attack,) = diagnoses(await diagnostic.handle(threat(sim_clock, "203.0.113.5", "c1")))
    await diagnostic.handle(alert(sim_clock, "AuthFailureSpike"))
    (merged,) = diagnoses(await ticks(diagnostic, sim_clock))
    assert merged.incident_id == attack.incident_id and merged.diagnosis.revision == 2
