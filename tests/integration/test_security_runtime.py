"""The Security agent inside the runtime: a configured auth log, the security tick, a ban.

Built from Settings like ``serve`` (virtual clock, other agents off): attack lines appended to
the configured sshd log are read on the next security tick, the address is banned
(``IpBlocked`` on the bus), the AlertManager holds a critical ``SecurityThreatDetected`` alert,
the decision is in DuckDB, and a runtime rebuilt on the same file keeps the ban.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from selfheal_ml.clock import SimClock
from selfheal_ml.config import (
    Agents,
    AgentToggle,
    DiagnosticToggle,
    LogSourceSetting,
    RepairToggle,
    SecuritySettings,
    Settings,
)
from selfheal_ml.events import Event, IpBlocked
from selfheal_ml.runtime import build_runtime, start_runtime
from selfheal_ml.storage.security import SecurityStore

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"


def settings_for(tmp_path: Path, log: Path) -> Settings:
    off = AgentToggle(enabled=False)
    return Settings(
        db_path=str(tmp_path / "selfheal.duckdb"),
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        agents=Agents(
            monitor=off,
            diagnostic=DiagnosticToggle(enabled=False),
            repair=RepairToggle(enabled=False),
            learning=off,
            predictive=off,
            performance=off,
        ),
        security=SecuritySettings(sources=(LogSourceSetting(path=str(log), format="sshd"),)),
    )


def failures(at: datetime, count: int) -> str:
    stamp = at.strftime("%b %d %H:%M:%S")
    return "".join(
        f"{stamp} web sshd[9{i}]: Failed password for invalid user admin{i} from {ATTACKER}"
        f" port 4{i} ssh2\n"
        for i in range(count)
    )


async def test_auth_log_attack_is_banned_alerted_stored_and_kept_after_restart(
    tmp_path: Path,
) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Dec 10 06:00:00 web sshd[1]: Server listening on 0.0.0.0 port 22.\n")
    clock = SimClock(START)
    settings = settings_for(tmp_path, log)
    runtime = await start_runtime(build_runtime(settings, clock=clock), run_scheduler=False)
    published: list[Event] = []

    async def record(event: Event) -> None:
        published.append(event)

    runtime.bus.subscribe(IpBlocked, record, name="test")
    await runtime.scheduler.run_until(START + timedelta(seconds=6))  # first read: at the end
    with log.open("a", encoding="utf-8") as handle:
        handle.write(failures(clock.now(), 5))
    await runtime.scheduler.run_until(START + timedelta(seconds=12))
    assert [(e.source_ip, e.reason) for e in published if isinstance(e, IpBlocked)] == [
        (ATTACKER, "brute_force (offence 1)")
    ]
    alerts = [
        a for a in runtime.alerts.active() if a.labels["alertname"] == "SecurityThreatDetected"
    ]
    assert [(a.labels["source_ip"], a.severity) for a in alerts] == [(ATTACKER, "critical")]
    await runtime.stop()

    again = build_runtime(settings, clock=clock)
    store = SecurityStore(again.database)
    assert [d.value for d in store.active_decisions(clock.now())] == [ATTACKER]
    restarted = await start_runtime(again, run_scheduler=False)
    security = restarted.agents["Security"].agent
    assert security.policy.is_banned(ATTACKER, clock.now())
    await restarted.stop()
