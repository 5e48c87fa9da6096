"""Scenario 3 in virtual time: attack traffic for the demo and the chaos benchmark.

The live path is ``sim serve --access-log FILE`` writing a JSON-lines access/auth log, the
service tailing it through ``[[security.sources]]``, the Security agent deciding bans through
its ban policy, and the simulator refusing banned addresses. This module sets up the same
pieces under a ``SimClock``:

- :func:`attack_settings` adds the access log as a ``jsonl`` source, the simulator's health
  checkers to the never-ban list (as the live test's configuration does) and the security
  tick interval, so ``build_runtime`` builds the same sources, detector and policy as
  ``serve``;
- :func:`attach_attacks` drives the traffic model before every round of ticks (an
  :class:`~selfheal_ml.sim.attack_driver.AttackDriver` after the fault driver), makes the
  simulator honour the Security agent's bans (its ban policy, which is what the decisions API
  serves), and records what the agent announced;
- :meth:`AttackScenario.score` compares that with the attacks' ground truth
  (:func:`~selfheal_ml.security.scenario_score.score_attacks`).

Legitimate traffic is thinned for virtual time (a page per user every 100 s, health checks every
30 s per checker and platform, logins every 5 min with one typo in ten, as live): each line is
parsed and counted like a live one, so a 21-day run reads about a million of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from selfheal_ml.collectors.log_source import offsets_file
from selfheal_ml.config import LogSourceSetting, Settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    IpBlocked,
    SecurityThreatDetected,
)
from selfheal_ml.lifecycle import IncidentStatus
from selfheal_ml.runtime import Runtime
from selfheal_ml.security.ban_policy import BanPolicy
from selfheal_ml.security.findings import CONFIRMED_ATTACKS
from selfheal_ml.security.scenario_score import (
    AttackScenarioReport,
    AttackTruth,
    SeenBan,
    SeenFinding,
    SeenSignal,
    score_attacks,
)
from selfheal_ml.sim.access_log import AccessLog
from selfheal_ml.sim.attack_driver import AttackDriver
from selfheal_ml.sim.attack_plan import plan_attacks
from selfheal_ml.sim.simulator import PlatformSimulator
from selfheal_ml.sim.traffic import (
    HEALTH_CHECKERS,
    USER_ADDRESSES,
    USER_API_KEYS,
    USERS,
    Attack,
    AttackKind,
    TrafficModel,
)


class FaultDriverLike(Protocol):
    """The demo's fault driver: called with the clock's time, counts what it injected."""

    injected: int

    def __call__(self, now: datetime) -> None: ...


ACCESS_LOG_SUFFIX = ".attack_access.jsonl"
SECURITY_TICK_S = 10.0  # the service reads its sources every 5 s; a ban lands within one tick
USER_PAGES_PER_S = 0.01
HEALTH_EVERY_S = 30.0
DISTRIBUTED_ACCOUNT = "admin"  # the account a distributed brute force tries (sim/traffic.py)
LEAKED_KEY = USER_API_KEYS[USERS[0]]  # the key an api_key_misuse attack uses (sim/traffic.py)


def access_log_path(db_path: str) -> Path:
    """Where the run's access log lives: beside its DuckDB file and named after it, so two runs
    in one directory never read each other's attacks (``runs/a.duckdb`` ->
    ``runs/a.attack_access.jsonl``)."""
    path = Path(db_path)
    return path.with_name(path.stem + ACCESS_LOG_SUFFIX)


def attack_settings(settings: Settings, security_tick_s: float = SECURITY_TICK_S) -> Settings:
    """``settings`` with the access log as the Security agent's only source (module
    docstring). A fresh, empty log and no saved tail offsets: each run starts clean."""
    if not settings.agent_enabled("Security"):
        raise ConfigError("agents.security", "the Security agent on, for attacks", False)
    log_path = access_log_path(settings.db_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", "utf-8")
    offsets_file(settings.db_path).unlink(missing_ok=True)
    security = settings.security.model_copy(
        update={
            "sources": (LogSourceSetting(path=str(log_path), format="jsonl"),),
            "never_ban": (*settings.security.never_ban, *HEALTH_CHECKERS),
        }
    )
    intervals = settings.intervals.model_copy(update={"security_s": security_tick_s})
    return settings.model_copy(update={"security": security, "intervals": intervals})


SECURITY_SERIES = "security_"  # the attack-rate series (security/attack_rates.py)
#: root causes that are attacks: the runbook's (diagnosis/hypotheses.py) and the kinds of the
#: Security agent's confirmed findings, which the Diagnostic agent makes incidents of
ATTACK_CAUSES = frozenset({"brute_force_login", *(kind.value for kind in CONFIRMED_ATTACKS)})


def is_security_signal(event: Event) -> bool:
    """An alert, anomaly or incident about attacks (a Security agent alert, an anomaly on an
    attack-rate series, the Diagnostic agent's incident of a confirmed attack): the demo scores
    these against the attacks, not against the injected faults."""
    if isinstance(event, AlertRaised):
        return event.alertname == "SecurityThreatDetected"
    if isinstance(event, IncidentDiagnosed):
        return event.diagnosis.enforced_by is not None
    return isinstance(event, AnomalyDetected) and event.series.startswith(SECURITY_SERIES)


@dataclass
class SecurityLog:
    """What the agents announced about attacks: the Security agent's findings and enforced
    bans, the Predictive agent's anomalies on the attack-rate series, and the Diagnostic
    agent's incidents whose root cause is an attack."""

    findings: list[SeenFinding] = field(default_factory=list)
    bans: list[SeenBan] = field(default_factory=list)
    rate_anomalies: list[SeenSignal] = field(default_factory=list)
    attack_incidents: list[SeenSignal] = field(default_factory=list)
    # the Diagnostic agent's incidents of confirmed attacks: opened at, and how they ended
    lifecycle_opened: dict[str, datetime] = field(default_factory=dict)
    lifecycle_ended: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    _counted: set[str] = field(default_factory=set)  # incidents already in attack_incidents

    async def record(self, event: Event) -> None:
        if isinstance(event, IncidentDiagnosed) and event.diagnosis.enforced_by is not None:
            self.lifecycle_opened.setdefault(event.incident_id, event.ts)
        elif isinstance(event, IncidentStatusChanged) and (
            event.status.closed or event.status is IncidentStatus.ESCALATED
        ):
            if event.incident_id in self.lifecycle_opened:
                self.lifecycle_ended[event.incident_id] = (event.status.value, event.ts)
            return
        if isinstance(event, SecurityThreatDetected):
            self.findings.append(SeenFinding(event.ts, event.kind, event.scope, event.value))
        elif isinstance(event, IpBlocked):
            self.bans.append(SeenBan(event.ts, event.source_ip, event.reason))
        elif isinstance(event, AnomalyDetected) and event.series.startswith(SECURITY_SERIES):
            self.rate_anomalies.append(SeenSignal(event.ts, event.series))
        elif isinstance(event, IncidentDiagnosed) and event.incident_id not in self._counted:
            cause = event.diagnosis.root_cause or ""  # not the label: "brute_force@shop"
            if cause in ATTACK_CAUSES:  # its first revision naming an attack: one incident
                self._counted.add(event.incident_id)
                self.attack_incidents.append(
                    SeenSignal(event.ts, cause, tuple(event.platforms), event.incident_id)
                )


def _targets(attack: Attack) -> tuple[str, ...]:
    if attack.kind is AttackKind.DISTRIBUTED_BRUTE_FORCE:
        return (DISTRIBUTED_ACCOUNT,)
    if attack.kind is AttackKind.API_KEY_MISUSE:
        return (LEAKED_KEY,)
    return ()


def attack_truth(attack: Attack) -> AttackTruth:
    """The scoring view of one simulated attack."""
    return AttackTruth(
        attack_id=attack.attack_id,
        kind=attack.kind.value,
        platform=attack.platform,
        addresses=attack.addresses,
        started_at=attack.started_at,
        ends_at=attack.ends_at,
        targets=_targets(attack),
        fault_id=attack.fault_id,
        first_refused_at=attack.first_refused_at,
        requests=attack.requests,
        refused=attack.refused,
    )


LEGITIMATE = {
    **{address: "user" for address in USER_ADDRESSES.values()},
    **dict.fromkeys(HEALTH_CHECKERS, "health_checker"),
}


@dataclass
class AttackScenario:
    """The attack traffic of one run and what the Security agent made of it."""

    driver: AttackDriver
    log: SecurityLog
    policy: BanPolicy
    lines_written: int = 0

    def score(self) -> AttackScenarioReport:
        """Every attack's outcome against the ground truth (``scenario_score``)."""
        truths = [attack_truth(attack) for attack in self.driver.attacks]
        return score_attacks(
            truths,
            self.log.findings,
            self.log.bans,
            legitimate=LEGITIMATE,
            never_ban=self.policy.never_ban,
            rate_anomalies=self.log.rate_anomalies,
            incidents=self.log.attack_incidents,
        )

    def report(self) -> dict[str, Any]:
        """The JSON figures: the score, how the attacks' incidents ended, and how many log
        lines the run wrote."""
        return {
            **self.score().as_dict(),
            "attack_incidents": self.lifecycle(),
            "log_lines": self.driver.access_log.written,
        }

    def lifecycle(self) -> dict[str, Any]:
        """The attacks' incidents: opened, resolved, escalated, still open at the end, and the
        time from opening to resolution (median, max; simulated seconds)."""
        opened, ended = self.log.lifecycle_opened, self.log.lifecycle_ended
        statuses = Counter(status for status, _ in ended.values())
        to_resolve = sorted(
            (at - opened[incident]).total_seconds()
            for incident, (status, at) in ended.items()
            if status == IncidentStatus.RESOLVED.value
        )
        return {
            "opened": len(opened),
            "resolved": statuses[IncidentStatus.RESOLVED.value],
            "escalated": statuses[IncidentStatus.ESCALATED.value],
            "still_open": len(opened) - len(ended),
            "resolve_median_s": to_resolve[len(to_resolve) // 2] if to_resolve else None,
            "resolve_max_s": to_resolve[-1] if to_resolve else None,
        }


def attach_attacks(
    runtime: Runtime,
    simulator: PlatformSimulator,
    *,
    count: int,
    seed: int,
    days: float,
    start: datetime,
    fault_driver: FaultDriverLike,
) -> AttackScenario:
    """Drive ``count`` planned attacks (and the log attacks of ``brute_force_login`` faults)
    through the runtime's Security agent; call before the run starts. The scheduler's
    ``before_ticks`` becomes ``fault_driver`` then the attack driver (faults first, so a
    fault's attack is in the log of the round it starts in)."""
    supervised = runtime.agents.get("Security")
    if supervised is None:
        raise ConfigError("agents.security", "the Security agent on, for attacks", False)
    policy: BanPolicy = supervised.agent.policy  # type: ignore[attr-defined]
    clock = runtime.clock
    platforms = tuple(simulator.platform_names)
    model = TrafficModel(
        platforms=platforms,
        seed=seed,
        user_rate_per_s=USER_PAGES_PER_S,
        health_every_s=HEALTH_EVERY_S,
    )
    source = runtime.settings.security.sources[0].path

    def banned(address: str) -> bool:  # by the Security agent's policy or the sim's block_ip
        now = clock.now()
        return policy.is_banned(address, now) or driver.blocked(address, now)

    access_log = AccessLog(source, model, clock.now, banned=banned)
    driver = AttackDriver(
        access_log,
        plan_attacks(seed, days, count, platforms),
        start,
        faults=simulator.faults,
        injected=lambda: fault_driver.injected,
    )

    def before_ticks(now: datetime) -> None:
        fault_driver(now)
        driver(now)

    runtime.scheduler.before_ticks = before_ticks
    log = SecurityLog()
    runtime.bus.subscribe(SecurityThreatDetected, log.record, name="ScenarioSecurityLog")
    runtime.bus.subscribe(IpBlocked, log.record, name="ScenarioBanLog")
    runtime.bus.subscribe(AnomalyDetected, log.record, name="ScenarioRateLog")
    runtime.bus.subscribe(IncidentDiagnosed, log.record, name="ScenarioIncidentLog")
    runtime.bus.subscribe(IncidentStatusChanged, log.record, name="ScenarioLifecycleLog")
    return AttackScenario(driver, log, policy)


def summary_lines(report: dict[str, Any]) -> Sequence[str]:
    """A readable summary of :meth:`AttackScenario.report`: one line per attack kind."""
    lines = [
        f"attacks {report['attacks']}, detected {report['attacks_detected']}, blocked"
        f" {report['attacks_blocked']} (within 30 s: {report['blocked_within_target']});"
        f" time to block median {report['time_to_block_median_s']} s,"
        f" max {report['time_to_block_max_s']} s; wrong blocks {report['wrong_blocks']}"
        f" {report['wrong_blocks_by_role']}; findings about legitimate sources"
        f" {report['legitimate_flagged']}; log lines {report['log_lines']}",
        f"attack incidents {report['attack_incidents']}",
        f"attack-rate anomalies {report['rate_anomalies']} (outside attacks"
        f" {report['rate_anomalies_outside_attacks']}), attacks with one"
        f" {report['attacks_with_rate_anomaly']}; attacks confirmed by an incident"
        f" {report['attacks_confirmed_by_incident']}, by exactly one"
        f" {report['attacks_with_one_incident']}, by several"
        f" {report['attacks_with_several_incidents']}",
        f"{'attack kind':<26}{'n':>4}{'found':>7}{'blocked':>9}{'detect max':>12}"
        f"{'block med':>11}{'block max':>11}{'all blocked max':>17}",
    ]
    for kind, row in report["by_kind"].items():
        lines.append(
            f"{kind:<26}{row['attacks']:>4}{row['detected']:>7}{row['blocked']:>9}"
            f"{_seconds(row['detect_max_s']):>12}{_seconds(row['block_median_s']):>11}"
            f"{_seconds(row['block_max_s']):>11}{_seconds(row['block_all_max_s']):>17}"
        )
    return lines


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"
