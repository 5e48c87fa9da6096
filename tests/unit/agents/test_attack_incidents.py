"""The Diagnostic agent's attack incidents: Security events in, one incident's lifecycle out."""

from __future__ import annotations

from datetime import timedelta

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.diagnostic import DiagnosticAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import (
    AttackStopped,
    Channel,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    IpBlocked,
    SecurityThreatDetected,
    Tick,
)
from selfheal_ml.lifecycle import IncidentStatus


def agent(clock: SimClock) -> DiagnosticAgent:
    return DiagnosticAgent(AgentContext(bus=InMemoryEventBus(), clock=clock))


def threat(clock: SimClock, kind: str, value: str, correlation: str, **extra: str) -> Event:
    return SecurityThreatDetected(
        ts=clock.now(), source="Security", correlation_id=correlation, kind=kind,
        source_ip=value if kind != "api_key_misuse" else "", value=value, platform="shop",
        evidence="line one\nline two", event_count=5, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


async def statuses(diagnostic: DiagnosticAgent, clock: SimClock) -> list[IncidentStatusChanged]:
    """The status changes of one health tick."""
    produced = await diagnostic.handle(Tick(ts=clock.now(), source="scheduler", kind="health"))
    return [event for event in produced if isinstance(event, IncidentStatusChanged)]


def test_the_security_channel_arrives_through_one_queue() -> None:
    assert Channel.SECURITY in DiagnosticAgent.subscriptions  # a ban never before its finding


async def test_a_banned_attack_is_diagnosed_verified_and_resolved(sim_clock: SimClock) -> None:
    diagnostic = agent(sim_clock)
    (diagnosed,) = await diagnostic.handle(
        threat(sim_clock, "brute_force", "203.0.113.5", "c1", severity="critical")
    )
    assert isinstance(diagnosed, IncidentDiagnosed) and diagnosed.correlation_id == "c1"
    diagnosis = diagnosed.diagnosis
    assert (diagnosis.label, diagnosis.enforced_by, diagnosis.platforms) == (
        "brute_force@shop",
        "Security",
        ("shop",),
    )
    assert diagnosis.evidence == ("line one", "line two")
    until = sim_clock.now() + timedelta(minutes=10)
    ban = IpBlocked(ts=sim_clock.now(), source="Security", correlation_id="c1",
                    source_ip="203.0.113.5", until=until, reason="brute_force")  # fmt: skip
    assert await diagnostic.handle(ban) == []  # the lifecycle moves on the health tick
    (verifying,) = await statuses(diagnostic, sim_clock)
    assert verifying.status is IncidentStatus.VERIFYING
    assert verifying.incident_id == diagnosed.incident_id
    sim_clock.advance(420)
    stopped = AttackStopped(
        ts=sim_clock.now(), source="Security", correlation_id="c1", source_ip="203.0.113.5",
        banned_at=sim_clock.now() - timedelta(seconds=420),
        last_seen=sim_clock.now() - timedelta(seconds=120), until=until, quiet_s=120.0,
    )  # fmt: skip
    assert await diagnostic.handle(stopped) == []
    (resolved,) = await statuses(diagnostic, sim_clock)
    assert (resolved.status, resolved.incident_id) == (
        IncidentStatus.RESOLVED,
        diagnosed.incident_id,
    )
    assert "went quiet for 120 s" in resolved.reason
    assert await statuses(diagnostic, sim_clock) == []  # closed: nothing more


async def test_warnings_open_nothing_and_an_unbanned_attack_is_escalated(
    sim_clock: SimClock,
) -> None:
    diagnostic = agent(sim_clock)
    assert await diagnostic.handle(threat(sim_clock, "scraping", "203.0.113.7", "w1",
                                          severity="warning")) == []  # fmt: skip
    (diagnosed,) = await diagnostic.handle(
        threat(sim_clock, "api_key_misuse", "key-user00", "k1", severity="critical")
    )
    assert isinstance(diagnosed, IncidentDiagnosed)
    assert diagnosed.diagnosis.strategy is None
    assert await statuses(diagnostic, sim_clock) == []
    sim_clock.advance(600)
    (escalated,) = await statuses(diagnostic, sim_clock)
    assert escalated.status is IncidentStatus.ESCALATED
    assert escalated.incident_id == diagnosed.incident_id


async def test_an_attacker_back_after_a_resolved_attack_opens_a_new_incident(
    sim_clock: SimClock,
) -> None:
    diagnostic = agent(sim_clock)
    address = "203.0.113.5"
    (first,) = await diagnostic.handle(
        threat(sim_clock, "brute_force", address, "c1", severity="critical")
    )
    until = sim_clock.now() + timedelta(hours=1)
    ban = IpBlocked(ts=sim_clock.now(), source="Security", correlation_id="c1",
                    source_ip=address, until=until, reason="brute_force")  # fmt: skip
    await diagnostic.handle(ban)
    await statuses(diagnostic, sim_clock)  # verifying
    sim_clock.advance(300)
    await diagnostic.handle(AttackStopped(
        ts=sim_clock.now(), source="Security", correlation_id="c1", source_ip=address,
        banned_at=sim_clock.now() - timedelta(seconds=300),
        last_seen=sim_clock.now() - timedelta(seconds=120), until=until, quiet_s=120.0,
    ))  # fmt: skip
    (resolved,) = await statuses(diagnostic, sim_clock)
    assert resolved.status is IncidentStatus.RESOLVED
    sim_clock.advance(3600)  # the one-hour ban has expired; the same address attacks again
    (second,) = await diagnostic.handle(
        threat(sim_clock, "brute_force", address, "c2", severity="critical")
    )
    assert isinstance(first, IncidentDiagnosed) and isinstance(second, IncidentDiagnosed)
    assert second.incident_id != first.incident_id
    assert second.diagnosis.revision == 1 and second.correlation_id == "c2"
