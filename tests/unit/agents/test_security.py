"""Security agent: a tailed auth log -> threat and block events, stored decisions, restart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.security import SecurityAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.collectors.log_source import LogSource, LogSourceSpec
from selfheal_ml.collectors.log_tail import MemoryOffsetStore
from selfheal_ml.events import AttackStopped, IpBlocked, SecurityThreatDetected, Tick
from selfheal_ml.security.ban_policy import BanPolicy, BanSettings
from selfheal_ml.security.formats import LogFormat
from selfheal_ml.security.never_ban import NeverBanList
from selfheal_ml.storage import Database
from selfheal_ml.storage.security import SecurityStore

NOW = datetime(2026, 12, 10, 7, 30, tzinfo=UTC)


def attack(address: str) -> str:
    return "".join(
        f"Dec 10 07:20:0{i} web sshd[7{i}]: Failed password for root from {address} port 5 ssh2\n"
        for i in range(5)
    )


def agent_for(log: Path, store: SecurityStore, **extras: Any) -> SecurityAgent:
    source = LogSource(
        LogSourceSpec(str(log), LogFormat.SSHD), MemoryOffsetStore(), NOW, start_at_end=False
    )
    context = AgentContext(
        bus=InMemoryEventBus(),
        clock=SimClock(NOW),
        extras={"security_sources": [source], "security_store": store, **extras},
    )
    return SecurityAgent(context)


def tick() -> Tick:
    return Tick(ts=NOW, source="scheduler", kind="security")


async def test_brute_force_in_the_log_raises_a_critical_threat_and_blocks(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(attack("203.0.113.50"), "utf-8")
    store = SecurityStore(Database(":memory:"))
    agent = agent_for(log, store)
    await agent.start()
    events = await agent.handle(tick())
    threat, blocked = events
    assert isinstance(threat, SecurityThreatDetected) and isinstance(blocked, IpBlocked)
    assert (threat.kind, threat.source_ip, threat.severity) == (
        "brute_force",
        "203.0.113.50",
        "critical",
    )
    assert threat.event_count == 5 and "Failed password" in threat.evidence
    assert blocked.source_ip == "203.0.113.50" and blocked.correlation_id == threat.correlation_id
    assert [d.value for d in store.active_decisions(NOW)] == ["203.0.113.50"]
    assert await agent.handle(tick()) == []  # nothing new in the log
    await agent.stop()


async def test_bans_survive_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(attack("203.0.113.50"), "utf-8")
    store = SecurityStore(Database(":memory:"))
    first = agent_for(log, store)
    await first.handle(tick())
    await first.stop()
    second_policy = BanPolicy()
    second = agent_for(log, store, ban_policy=second_policy)
    await second.start()
    assert second_policy.is_banned("203.0.113.50", NOW)
    assert second_policy.offences("203.0.113.50") == 1


async def test_dry_run_and_never_ban_publish_no_block(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(attack("203.0.113.51") + attack("10.1.2.3"), "utf-8")
    store = SecurityStore(Database(":memory:"))
    policy = BanPolicy(BanSettings(dry_run=True), NeverBanList(["10.0.0.0/8"]))
    agent = agent_for(log, store, ban_policy=policy)
    events = await agent.handle(tick())
    await agent.stop()
    assert [type(e).__name__ for e in events] == ["SecurityThreatDetected"] * 2
    actions = sorted((d.value, d.action.value) for d in store.decisions())
    assert actions == [("10.1.2.3", "refused"), ("203.0.113.51", "would_ban")]


async def test_other_ticks_and_no_sources_do_nothing(tmp_path: Path) -> None:
    context = AgentContext(bus=InMemoryEventBus(), clock=SimClock(NOW))
    agent = SecurityAgent(context)
    assert await agent.handle(tick()) == []
    assert await agent.handle(Tick(ts=NOW, source="scheduler", kind="health")) == []
    assert agent.seen["Tick:security"] == 1


async def test_a_minute_of_reads_becomes_attack_rate_series_stored_and_published(
    tmp_path: Path,
) -> None:
    from datetime import timedelta

    from selfheal_ml.events import MetricsCollected
    from selfheal_ml.storage.metrics import MetricsStore

    log = tmp_path / "auth.log"
    log.write_text(attack("203.0.113.50"), "utf-8")
    clock = SimClock(NOW)
    metrics = MetricsStore(Database(":memory:"), clock)
    source = LogSource(
        LogSourceSpec(str(log), LogFormat.SSHD), MemoryOffsetStore(), NOW, start_at_end=False
    )
    agent = SecurityAgent(
        AgentContext(bus=InMemoryEventBus(), clock=clock, metrics=metrics,
                     extras={"security_sources": [source],
                             "ban_policy": BanPolicy(BanSettings(bantime_s=3600.0))})
    )  # fmt: skip
    first = await agent.handle(tick())
    assert not any(isinstance(event, MetricsCollected) for event in first)
    later = NOW + timedelta(seconds=60)
    clock.advance_to(later)
    published = await agent.handle(Tick(ts=later, source="scheduler", kind="security"))
    (collected,) = [event for event in published if isinstance(event, MetricsCollected)]
    values = {point.series.split("{")[0]: point.value for point in collected.points}
    assert values["security_failed_logins_per_s"] == 5 / 60
    assert values["security_confirmed_findings"] == 1.0
    assert values["security_bans_active"] == 1.0
    await agent.stop()  # flushes the stored points
    stored = metrics.latest('security_failed_logins_per_s{target="security"}')
    assert stored == (later, 5 / 60)


async def test_a_banned_address_that_falls_silent_is_reported_stopped_once(
    tmp_path: Path,
) -> None:
    log = tmp_path / "auth.log"
    log.write_text(attack("203.0.113.50").replace("07:20:0", "07:29:5"), "utf-8")
    store = SecurityStore(Database(":memory:"))
    agent = agent_for(log, store, attack_quiet_s=60.0)
    clock = agent.context.clock
    assert isinstance(clock, SimClock)
    _threat, blocked = await agent.handle(tick())
    assert isinstance(blocked, IpBlocked)
    clock.advance(30)
    with log.open("a", encoding="utf-8") as handle:  # still knocking at 07:30:20
        handle.write(attack("203.0.113.50").splitlines()[0].replace("07:20:00", "07:30:20"))
        handle.write("\n")
    later = Tick(ts=clock.now(), source="scheduler", kind="security")
    assert [e for e in await agent.handle(later) if isinstance(e, AttackStopped)] == []
    clock.advance(60)
    produced = await agent.handle(Tick(ts=clock.now(), source="scheduler", kind="security"))
    (stopped,) = [e for e in produced if isinstance(e, AttackStopped)]
    assert stopped.source_ip == "203.0.113.50" and stopped.correlation_id == blocked.correlation_id
    assert stopped.last_seen == datetime(2026, 12, 10, 7, 30, 20, tzinfo=UTC)
    assert stopped.until == blocked.until and stopped.quiet_s == 60.0
    clock.advance(60)
    again = await agent.handle(Tick(ts=clock.now(), source="scheduler", kind="security"))
    assert [e for e in again if isinstance(e, AttackStopped)] == []
    await agent.stop()
