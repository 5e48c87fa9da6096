"""``selfheal-ml demo``: the whole system against the simulator, in virtual time.

Five simulated platforms run for ``days`` simulated days under a ``SimClock`` with a
reproducible schedule of injected faults; every enabled agent runs on the real bus, writes to a
real DuckDB file and raises real alerts. At the end the ground truth of the simulator is
compared with what the system noticed: faults detected, time to detect, alerts by severity.
The DuckDB file is left behind for the notebook.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from selfheal_ml.actions import InProcessSimulatorExecutor, RepairService
from selfheal_ml.alerting import RecordingNotifier
from selfheal_ml.attack_scenario import (
    AttackScenario,
    attach_attacks,
    attack_settings,
    is_security_signal,
)
from selfheal_ml.clock import SimClock
from selfheal_ml.collectors import Collector, collect_all
from selfheal_ml.config import Settings
from selfheal_ml.evaluation.chaos import (
    ChaosReport,
    DiagnosedIncident,
    Escalation,
    ExecutedRepair,
    FaultTruth,
    score_chaos,
)
from selfheal_ml.evaluation.detection import DetectionReport, Fault, Observation, match_detections
from selfheal_ml.events import (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    IncidentDiagnosed,
    MetricPoint,
    RepairEscalated,
    Tick,
)
from selfheal_ml.heap import long_lived_heap_frozen
from selfheal_ml.ports import SIMULATOR_ACTIONS, simulator_collectors
from selfheal_ml.runtime import Runtime, build_runtime, start_runtime
from selfheal_ml.sim import CATALOGUE, PlatformSimulator
from selfheal_ml.sim.catalogue import FaultKind, FaultRecord
from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS
from selfheal_ml.sim.schedule import FaultSchedule
from selfheal_ml.tracking import Tracker
from selfheal_ml.training.recommender import RepairRecommender

DEMO_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
HISTORY_BATCH_POINTS = 200_000  # warm-up points held in memory before a DuckDB append


@dataclass(frozen=True)
class DemoOptions:
    """What to simulate."""

    days: float = 7.0
    seed: int = 42
    faults: int | None = None  # default: two a day
    db_path: str = "data/demo.duckdb"
    progress: bool = True
    warmup_days: float = 2.0  # fault-free history recorded before the run, as a real site has
    check_interval_s: float = 60.0  # the seed's metrics interval; the service default is 30 s
    approve_after_s: float | None = 300.0  # a simulated on-call approves high-risk repairs
    scoring_workers: int = 1  # processes scoring a share of the series beside this one
    # the share of the series scored in this process, which also runs the collectors, bus and
    # stores (None: an equal share); the rest goes to the workers
    scoring_local_share: float | None = 0.15
    # False: repairs are planned by the shipped rules and playbooks, and the Learning agent
    # records without training, so the figures do not depend on the local MLflow store;
    # True: the store's repair-strategy @champion advises, as in the service
    use_champion: bool = False
    kinds: tuple[str, ...] | None = None  # fault kinds to draw from; default: the whole catalogue
    attacks: int = 0  # Scenario 3: attacks in the access log the Security agent tails

    @property
    def fault_count(self) -> int:
        return self.faults if self.faults is not None else max(1, round(2 * self.days))


@dataclass
class FaultDriver:
    """Keeps the simulator in step with the clock and injects faults when they are due."""

    simulator: PlatformSimulator
    schedule: FaultSchedule
    start: datetime
    injected: int = 0

    def __call__(self, now: datetime) -> None:
        for planned in self.schedule.faults[self.injected :]:
            due = self.start + timedelta(seconds=planned.at_s)
            if due > now:
                break
            self._advance_to(due)
            self.simulator.inject(
                planned.kind, planned.platform, planned.severity, planned.duration_s
            )
            self.injected += 1
        self._advance_to(now)

    def _advance_to(self, moment: datetime) -> None:
        delta = (moment - self.simulator.now()).total_seconds()
        if delta > 0:
            self.simulator.advance(delta)


#: A capacity prediction repeated within this time of the last one for the same series is the
#: same holding condition (the check runs every 5 min; the store's look, in a replay, once per
#: written batch), like an alert's resend.
PREDICTION_HOLDS = timedelta(hours=2)


@dataclass
class AlertLog:
    """Every alert that started during the run (resends of a holding condition count once)."""

    observations: list[Observation] = field(default_factory=list)
    severities: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)
    predicted: dict[str, datetime] = field(default_factory=dict)  # series -> last prediction

    async def record(self, event: Event) -> None:
        if is_security_signal(event):  # attacks are scored by Scenario 3, not against faults
            return
        if isinstance(event, AlertRaised):
            # an inhibited firing is a record; the same condition still holding after the
            # repair's window is re-sent uninhibited, and counts then
            if not event.firing or event.inhibited_by or event.correlation_id in self.seen:
                return
            self.seen.add(event.correlation_id)
            self._add(event.ts, event.alertname, event.labels, event.severity)
        elif isinstance(event, AnomalyDetected):
            if event.severity != "info":  # info anomalies are records, not alerts
                labels = {"metric": event.series.split("{", 1)[0], **event.labels}
                self._add(event.ts, "AnomalyDetected", labels, event.severity)
        elif isinstance(event, IncidentDiagnosed):
            # an incident's first diagnosis fires its own alert, on each platform it names
            if event.diagnosis.revision == 1:
                for platform in event.platforms:
                    labels = {"platform": platform, "incident_id": event.incident_id}
                    self._add(event.ts, "IncidentDiagnosed", labels, event.diagnosis.severity)
        elif isinstance(event, BreachPredicted):
            last = self.predicted.get(event.series)
            self.predicted[event.series] = event.ts
            if last is None or event.ts - last > PREDICTION_HOLDS:
                labels = {"metric": event.series.split("{", 1)[0], **event.labels}
                self._add(event.ts, "CapacityBreachPredicted", labels, "warning")

    def _add(self, ts: datetime, name: str, labels: dict[str, str], severity: str) -> None:
        self.observations.append(Observation(ts, name, dict(labels)))
        self.severities[severity] += 1


@dataclass
class OnCallApprover:
    """A simulated person on call: approves every high-risk repair ``after_s`` after it was
    requested (through the same ``approve`` the admin API calls). Approvals are counted, so a
    repair that needed one never counts as resolved without a human."""

    service: RepairService
    after_s: float
    approved: list[tuple[str, str]] = field(default_factory=list)

    async def on_tick(self, event: Event) -> None:
        if not isinstance(event, Tick) or event.kind != "health":
            return
        for pending in self.service.pending():
            if (event.ts - pending.requested_at).total_seconds() >= self.after_s:
                await self.service.approve(pending.approval_id, by="on-call (simulated)")
                self.approved.append((pending.request.incident_id, pending.request.action))


@dataclass
class LoopLog:
    """The closed loop as it happened: first diagnoses and escalations."""

    incidents: dict[str, DiagnosedIncident] = field(default_factory=dict)
    escalations: list[Escalation] = field(default_factory=list)

    async def record(self, event: Event) -> None:
        if is_security_signal(event):  # an attack's incident: scored by Scenario 3
            return
        if isinstance(event, IncidentDiagnosed) and event.incident_id not in self.incidents:
            target = event.diagnosis.component
            self.incidents[event.incident_id] = DiagnosedIncident(
                incident_id=event.incident_id,
                ts=event.ts,
                platforms=tuple(event.platforms),
                components=(target,) if target else (),
                top_cause=event.root_causes[0] if event.root_causes else None,
            )
        elif isinstance(event, RepairEscalated):
            self.escalations.append(Escalation(event.ts, event.incident_id, event.reason))


@dataclass
class DemoResult:
    """What the run produced."""

    options: DemoOptions
    detection: DetectionReport
    healing: ChaosReport
    alerts_by_severity: dict[str, int]
    dashboard: dict[str, Any]
    wall_time_s: float
    repair_model_version: str | None = None
    security: dict[str, Any] | None = None  # Scenario 3's figures when the run had attacks

    def report(self) -> dict[str, Any]:
        """The JSON report (``--report``): the self-healing figures, then per-fault detail."""
        return {
            "days": self.options.days,
            "seed": self.options.seed,
            "repair_model_version": self.repair_model_version,
            **self.healing.as_dict(),
            "alerts_matching_no_fault": self.detection.false_alarms,
            "alerts_matching_no_fault_by_kind": unmatched_by_kind(self.detection.unmatched),
            "alerts_by_severity": self.alerts_by_severity,
            "faults": [
                {
                    "fault_id": o.fault_id,
                    "kind": o.kind,
                    "platform": o.platform,
                    "injected_at": o.injected_at.isoformat(),
                    "detected_at": o.detected_at.isoformat() if o.detected_at else None,
                    "detected_by": o.detected_by,
                    "resolved_at": o.resolved_at.isoformat() if o.resolved_at else None,
                    "resolved_by": o.resolved_by,
                }
                for o in self.detection.outcomes
            ],
            "alerts_matching_no_fault_detail": [
                {"ts": alert.ts.isoformat(), "alertname": alert.alertname, "labels": alert.labels}
                for alert in self.detection.unmatched
            ],
            "dashboard": self.dashboard,
            "wall_time_s": round(self.wall_time_s, 2),
            **({"security": self.security} if self.security is not None else {}),
        }


def unmatched_by_kind(unmatched: Sequence[Observation]) -> dict[str, int]:
    """The signs that matched no fault, counted by alert name and metric (most first): where
    the false alarms come from.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 5, tzinfo=UTC)
    >>> unmatched_by_kind([Observation(now, "AnomalyDetected", {"metric": "host_cpu_percent"}),
    ...                    Observation(now, "HighCpu", {"platform": "a.io"})] * 2)
    {'AnomalyDetected host_cpu_percent': 2, 'HighCpu': 2}
    """
    kinds = Counter(
        " ".join(filter(None, (alert.alertname, alert.labels.get("metric")))) for alert in unmatched
    )
    return dict(kinds.most_common())


def _most_unmatched(by_kind: dict[str, int], shown: int = 3) -> str:
    """`` (most: A 5, B 2)``: the commonest kinds of sign that matched no fault, if any."""
    if not by_kind:
        return ""
    return (
        " (most: "
        + ", ".join(f"{kind} {count}" for kind, count in list(by_kind.items())[:shown])
        + ")"
    )


def is_resource_series(series: str) -> bool:
    """Host resources: what the demo forecasts (every series would cost minutes per day)."""
    return series.startswith(("host_cpu_percent", "host_memory_percent", "host_disk_percent"))


def _fresh_database(path: str) -> None:
    for suffix in ("", ".wal"):
        Path(path + suffix).unlink(missing_ok=True)


@dataclass
class Simulation:
    """A runtime wired to a simulator in virtual time, and the log of what it alerted on."""

    runtime: Runtime
    simulator: PlatformSimulator
    driver: FaultDriver
    alerts: AlertLog
    loop: LoopLog
    executor: InProcessSimulatorExecutor
    approver: OnCallApprover | None = None
    attacks: AttackScenario | None = None

    async def run(self, days: float, progress: bool = False) -> datetime:
        """Start the agents and replay ``days`` of virtual time; returns the end time."""
        await start_runtime(self.runtime, run_scheduler=False)
        end = DEMO_START + timedelta(days=days)
        bar = tqdm(
            total=round(days * 24), desc="faults and repairs", unit="sim h", disable=not progress
        )
        with bar, long_lived_heap_frozen():

            def show(now: datetime) -> None:
                bar.update(int((now - DEMO_START).total_seconds() // 3600) - bar.n)

            await self.runtime.scheduler.run_until(end, on_step=show)
        return end

    def score(self, days: float, end: datetime) -> tuple[DetectionReport, ChaosReport]:
        """Detection and the closed loop's figures against the simulator's ground truth."""
        records = self.simulator.faults()
        faults = [
            Fault(r.fault_id, str(r.kind), r.platform, r.platforms, r.injected_at, r.resolved_at,
                  r.resolved_by, r.dependencies)
            for r in records
        ]  # fmt: skip
        detection = match_detections(faults, self.alerts.observations, run_end=end)
        truths = [
            FaultTruth(fault, tuple(a.value for a in r.fixing_actions), root_component(r))
            for fault, r in zip(faults, records, strict=True)
        ]
        approved = set(self.approver.approved) if self.approver is not None else set()
        repairs = [
            ExecutedRepair(
                a.ts, a.incident_id, a.action, a.platform, a.target_had_fault, a.fixed,
                approved_by_human=(a.incident_id, a.action) in approved,
            )
            for a in self.executor.applied
        ]  # fmt: skip
        healing = score_chaos(
            truths,
            detection,
            list(self.loop.incidents.values()),
            repairs,
            self.loop.escalations,
            days=days,
            platform_count=len(self.simulator.platform_names),
            run_end=end,
            high_risk_actions=self._high_risk_actions(),
        )
        return detection, healing

    def _high_risk_actions(self) -> frozenset[str]:
        """The actions this run's guard makes wait for a person."""
        tiers = self.runtime.repair_service.guard.policy.risk_tiers
        return frozenset(action for action, risk in tiers.items() if risk == "high")


def root_component(record: FaultRecord) -> str:
    """Where a fault's cause lives: its platform, or the shared database or cache."""
    scope = CATALOGUE[record.kind].scope
    if scope == "database":
        return "postgres"
    if scope == "cache":
        return "redis"
    return str(record.platform)


async def build_simulation(
    settings: Settings, options: DemoOptions, schedule: FaultSchedule | None = None
) -> Simulation:
    """Everything the demo runs: a fresh DuckDB file, warm-up history, runtime and faults."""
    _fresh_database(options.db_path)
    # virtual time: rollups hourly, forecasts daily (the same work in fewer, larger steps, so a
    # simulated week replays in minutes); capacity checks at the service's interval, their
    # short look reads what the Predictive agent saw and the store's look runs once per batch
    intervals = settings.intervals.model_copy(
        update={
            "health_check_s": options.check_interval_s,
            "rollup_s": 3600.0,
            "retention_s": 86400.0,
            "forecast_s": 86400.0,
        }
    )
    demo_settings = settings.model_copy(update={"db_path": options.db_path, "intervals": intervals})
    if options.attacks:
        demo_settings = attack_settings(demo_settings)
    warmup_s = options.warmup_days * 86400.0
    simulator = PlatformSimulator(seed=options.seed, start=DEMO_START - timedelta(seconds=warmup_s))
    if schedule is None:
        kinds = options.kinds if options.kinds is not None else tuple(FaultKind)
        schedule = FaultSchedule.random(options.seed, options.days, options.fault_count, kinds)
    executor = InProcessSimulatorExecutor(simulator)
    # the service's own probes and scrapes, through an in-process transport
    collectors = simulator_collectors(simulator)
    extras: dict[str, Any] = {
        "collectors": collectors,
        "repair_executors": dict.fromkeys(SIMULATOR_ACTIONS, executor),
        "change_log": simulator.config_changes,
        "platforms": [platform.name for platform in DEFAULT_PLATFORMS],
        "store_every_s": 3600.0,  # fewer, larger DuckDB batches in virtual time
        "scoring_workers": options.scoring_workers,
        "scoring_local_share": options.scoring_local_share,
        "rewarm_s": warmup_s,
        "forecast_filter": is_resource_series,
    }
    if not options.use_champion:
        extras["repair_model"] = RepairRecommender(tracker=None)
        extras["tracker"] = None
    # notifications are counted in memory: a week of them would flood the terminal
    notifier = RecordingNotifier("demo")
    runtime = build_runtime(
        demo_settings, clock=SimClock(DEMO_START), notifiers=[notifier], extras=extras
    )
    if warmup_s > 0:
        await _record_history(
            runtime, simulator, collectors, warmup_s, options.check_interval_s, options.progress
        )
    driver = FaultDriver(simulator, schedule, DEMO_START)
    runtime.scheduler.before_ticks = driver
    attacks = None
    if options.attacks:  # the attack driver runs after the fault driver (attack_scenario.py)
        attacks = attach_attacks(
            runtime, simulator, count=options.attacks, seed=options.seed, days=options.days,
            start=DEMO_START, fault_driver=driver,
        )  # fmt: skip
    log = AlertLog()
    runtime.bus.subscribe(AlertRaised, log.record, name="DemoAlertLog")
    runtime.bus.subscribe(AnomalyDetected, log.record, name="DemoAnomalyLog")
    runtime.bus.subscribe(BreachPredicted, log.record, name="DemoBreachLog")
    runtime.bus.subscribe(IncidentDiagnosed, log.record, name="DemoIncidentAlertLog")
    loop = LoopLog()
    runtime.bus.subscribe(IncidentDiagnosed, loop.record, name="DemoIncidentLog")
    runtime.bus.subscribe(RepairEscalated, loop.record, name="DemoEscalationLog")
    approver = None
    if options.approve_after_s is not None:
        approver = OnCallApprover(runtime.repair_service, options.approve_after_s)
        runtime.bus.subscribe(Tick, approver.on_tick, name="DemoOnCall")
    return Simulation(runtime, simulator, driver, log, loop, executor, approver, attacks)


async def _record_history(
    runtime: Runtime,
    simulator: PlatformSimulator,
    collectors: Sequence[Collector],
    duration_s: float,
    interval_s: float,
    progress: bool = False,
) -> None:
    """Fault-free history before the run, stored as metrics: what the Monitor's collectors
    would have recorded had the service been watching (same series, same derivations), and
    it leaves their counters primed, so the first round of the run has rates already."""
    rounds = int(duration_s // interval_s)
    batch: list[MetricPoint] = []
    bar = tqdm(total=rounds, desc="fault-free history", unit="check", disable=not progress)
    with bar:
        for done in range(1, rounds + 1):
            simulator.advance(interval_s)
            result = await collect_all(collectors, simulator.now(), timeout_s=5.0)
            batch += result.points
            if len(batch) >= HISTORY_BATCH_POINTS or done == rounds:
                runtime.metrics.append_points(batch)
                batch = []
            bar.update(1)
    runtime.metrics.rollup()


async def run_demo(settings: Settings, options: DemoOptions) -> DemoResult:
    """Run the simulation end to end and compare what was noticed with the ground truth."""
    started = asyncio.get_running_loop().time()
    simulation = await build_simulation(settings, options)
    end = await simulation.run(options.days, progress=options.progress)
    detection, healing = simulation.score(options.days, end)
    runtime = simulation.runtime
    board = runtime.dashboard()
    await runtime.stop()
    return DemoResult(
        options=options,
        detection=detection,
        healing=healing,
        alerts_by_severity=dict(simulation.alerts.severities),
        dashboard=board,
        wall_time_s=asyncio.get_running_loop().time() - started,
        repair_model_version=runtime.repair_recommender.model_version,
        security=None if simulation.attacks is None else simulation.attacks.report(),
    )


def _seconds_between(later: datetime | None, earlier: datetime) -> str:
    return "-" if later is None else f"{(later - earlier).total_seconds():.0f} s"


def _advisor(result: DemoResult) -> str:
    if result.repair_model_version is not None:
        return f"repair-strategy v{result.repair_model_version} from the local MLflow store"
    if result.options.use_champion:
        return "the rules: no repair-strategy @champion in the run's MLflow store"
    return "the shipped rules and playbooks; --use-champion asks the local @champion"


def summary_table(result: DemoResult) -> str:
    """A readable summary: one line per fault, then the headline figures."""
    report = result.report()
    lines = [
        "Every time below is simulated. injected: when the fault began (simulated UTC);"
        " detected / resolved: simulated seconds after the injection until the first alert"
        " that matched the fault (missed: none did) / until the repair that ended it"
        " (-: no repair ended it); by: the action that ended it.",
        "",
        f"{'fault':<22} {'platform':<18} {'injected':<12} {'detected':>9} {'resolved':>9}  by",
    ]
    for outcome in result.detection.outcomes:
        injected = outcome.injected_at.isoformat()[5:16].replace("T", " ")
        detected = _seconds_between(outcome.detected_at, outcome.injected_at)
        if outcome.detected_at is None:
            detected = "missed"
        lines.append(
            f"{outcome.kind:<22} {outcome.platform or '(shared)':<18} {injected:<12}"
            f" {detected:>9} {_seconds_between(outcome.resolved_at, outcome.injected_at):>9}"
            f"  {outcome.resolved_by or ''}"
        )

    def share(key: str) -> str:
        value = report[key]
        return "-" if value is None else f"{value:.0%}"

    def seconds(key: str) -> str:
        value = report[key]
        return "-" if value is None else f"{value:.0f} s"

    lines += [
        "",
        f"faults injected {report['faults_injected']}, detected {report['faults_detected']}"
        f" ({share('detection_rate')}); time to detect: median {seconds('mttd_median_s')},"
        f" p95 {seconds('mttd_p95_s')}",
        f"incidents diagnosed {report['incidents']}; root cause right"
        f" {share('root_cause_accuracy')}; first repair right {share('first_repair_accuracy')}",
        f"resolved by the loop {share('resolution_rate')} ({report['approvals']} after a"
        f" human's approval), without a human {share('auto_resolution_rate')};"
        f" time to repair (from injection): median {seconds('mttr_median_s')},"
        f" p95 {seconds('mttr_p95_s')}; without a human: median {seconds('mttr_auto_median_s')},"
        f" p95 {seconds('mttr_auto_p95_s')}",
        f"repairs executed {report['repairs_executed']} (on healthy targets:"
        f" {report['repairs_on_healthy']}); escalations {report['escalations']}"
        f" (circuit breaker: {report['loops_stopped']});"
        f" false alarms {report['false_alarms_per_platform_day']} per platform-day",
        f"alerts raised by the AlertManager: {result.dashboard['alerts']['total']} (the"
        f" dashboard's alerts.total); signs of trouble scored against the faults (first"
        f" firing of each alert, warning or critical anomalies, each incident's first"
        f" diagnosis per platform, predicted breaches): {sum(result.alerts_by_severity.values())}"
        f" by severity {json.dumps(report['alerts_by_severity'], sort_keys=True)}, of which"
        f" {report['alerts_matching_no_fault']} matched no fault"
        + _most_unmatched(report["alerts_matching_no_fault_by_kind"]),
        f"wall time {report['wall_time_s']} s for {result.options.days:g} simulated days"
        f" (repairs advised by {_advisor(result)})",
    ]
    return "\n".join(lines)


def log_demo_run(
    tracker: Tracker, result: DemoResult, experiment: str = "selfheal-demo", run_name: str = ""
) -> str:
    """Log the run's settings and headline figures to MLflow (default experiment
    ``selfheal-demo``; the chaos benchmark logs to ``self-healing``)."""
    report = result.report()
    keys = (*result.healing.as_dict(), "alerts_matching_no_fault", "wall_time_s")
    metrics = {key: float(report[key]) for key in keys if isinstance(report[key], int | float)}
    for kind, row in result.healing.by_kind.items():  # e.g. root_cause.slow_query
        metrics.update({f"{column}.{kind}": value for column, value in row.items()})
    params = {
        "days": result.options.days,
        "seed": result.options.seed,
        "faults": result.options.fault_count,
        "warmup_days": result.options.warmup_days,
        "check_interval_s": result.options.check_interval_s,
        "approve_after_s": result.options.approve_after_s,
        "repair_model_version": result.repair_model_version,
    }
    name = run_name or f"demo-seed-{result.options.seed}"
    return tracker.log_run(experiment, name, params, metrics)
