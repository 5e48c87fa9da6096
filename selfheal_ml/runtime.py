"""The composition root: builds every component from :class:`Settings`, starts and stops them.

``start_agents`` is the orchestrator of the original design: EventBus, MetricsStore,
AlertManager, then the seven agents in order, each start logged, each agent supervised.
Nothing here runs at import time; a process may build several runtimes (tests do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml import __version__
from selfheal_ml.actions import RepairService
from selfheal_ml.agents import AgentContext, AgentStatus, Thresholds, agent_class
from selfheal_ml.agents.heartbeats import AgentBoard, beat_forever
from selfheal_ml.agents.supervisor import SupervisedAgent
from selfheal_ml.alerting import AlertManager, LogNotifier, Notifier
from selfheal_ml.alerting.delivery import DeliveryCounters
from selfheal_ml.alerting.outbound import build_notifiers
from selfheal_ml.bus import EventBus, InMemoryEventBus, build_bus
from selfheal_ml.bus.batch_handler import BatchHandler
from selfheal_ml.clock import Clock, RealClock, SimClock, run_blocking
from selfheal_ml.config import AGENT_NAMES, Settings, Target
from selfheal_ml.events import (
    AgentFailed,
    AgentHeartbeat,
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    HealthChecked,
    HealthStatus,
    IncidentDiagnosed,
    IncidentStatusChanged,
    RepairEscalated,
    SecurityThreatDetected,
    Tick,
)
from selfheal_ml.performance.board import FindingBoard
from selfheal_ml.ports import (
    agent_ports,
    build_repair_service,
    monitor_platforms,
    notifier_specs,
    security_ports,
)
from selfheal_ml.scheduler import Scheduler
from selfheal_ml.security.records import LogRecord
from selfheal_ml.storage import Database
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.anomalies import AnomalyStore
from selfheal_ml.storage.forecasts import ForecastStore
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.storage.metrics import MetricsStore
from selfheal_ml.storage.repair_state import RepairStateStore
from selfheal_ml.storage.repairs import RepairAuditStore
from selfheal_ml.storage.security import SecurityStore
from selfheal_ml.tracking import Tracker, tracking_store_exists
from selfheal_ml.training import RepairRecommender

log = logging.getLogger("selfheal_ml")


class AgentUnavailableError(RuntimeError):
    """The agent a request needs is disabled or not running."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        super().__init__(f"the {agent} agent is not running")


ALERT_HISTORY_DAYS = 30
# the agents that consult the repair-strategy champion
CHAMPION_USERS = frozenset({"Diagnostic", "Learning"})
# the events the AlertManager turns into alerts
ALERTING_EVENTS: tuple[type[Event], ...] = (
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    AgentFailed,
    SecurityThreatDetected,
    IncidentDiagnosed,
    RepairEscalated,
    IncidentStatusChanged,
)


@dataclass
class HealthBoard:
    """The latest health of each target, from ``HealthChecked`` events."""

    platforms: dict[str, HealthStatus] = field(default_factory=dict)
    checked_at: dict[str, datetime] = field(default_factory=dict)

    async def record(self, event: Event) -> None:
        if isinstance(event, HealthChecked):
            self.platforms[event.target] = event.status
            self.checked_at[event.target] = event.ts

    def overall(self) -> str:
        """``unknown`` before the first check, else the worst platform status."""
        if not self.platforms:
            return "unknown"
        for status in ("down", "degraded"):
            if status in self.platforms.values():
                return status
        return "healthy"


@dataclass
class Runtime:
    """Everything one selfheal-ml process runs, wired together."""

    settings: Settings
    clock: Clock
    database: Database
    bus: EventBus
    metrics: MetricsStore
    alerts: AlertManager
    alert_store: AlertStore
    anomalies: AnomalyStore
    forecasts: ForecastStore
    incidents: IncidentStore
    repair_recommender: RepairRecommender
    repairs: RepairAuditStore
    repair_service: RepairService
    health: HealthBoard
    agents: dict[str, SupervisedAgent]
    scheduler: Scheduler
    security: SecurityStore
    optimizations: FindingBoard = field(default_factory=FindingBoard)
    # outcomes of the configured [[notifiers]] (delivered, retries, failed, dropped)
    deliveries: DeliveryCounters = field(default_factory=DeliveryCounters)
    # agents heard from over a shared bus (they run in other processes); None on the memory bus
    agent_board: AgentBoard | None = None
    started_monotonic: float = field(default_factory=time.monotonic)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def agent_statuses(self) -> dict[str, AgentStatus]:
        """Status of all seven agents; disabled ones report ``enabled: false``."""
        statuses: dict[str, AgentStatus] = {}
        for name in AGENT_NAMES:
            supervised = self.agents.get(name)
            remote = self.agent_board.status(name) if self.agent_board is not None else None
            if supervised is not None:
                statuses[name] = supervised.status
            elif remote is not None:
                statuses[name] = remote
            else:
                statuses[name] = AgentStatus(name=name, enabled=False)
        return statuses

    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic

    def system_status(self) -> str:
        """``running``, ``degraded`` (an enabled agent failed) or ``api-only``."""
        if not self.settings.enable_self_healing:
            return "api-only"
        if any(status.failed for status in self.agent_statuses().values()):
            return "degraded"
        return "running"

    def dashboard(self) -> dict[str, Any]:
        """The seed's dashboard shape, every value read live: ``uptime`` in milliseconds and
        ``successRate`` as the seed's percentage string (``"93%"``; ``null`` before the first
        repair); the raw figures ride alongside (``uptimeSeconds``, ``successRatio``,
        ``pendingApprovals``) for callers that compute with them."""
        counts = self.alerts.counts()
        repairs = self.repairs.summary()
        uptime_s = self.uptime_s()
        ratio = repairs.success_rate
        service = getattr(self, "repair_service", None)
        return {
            "system": {
                "status": self.system_status(),
                "uptime": round(uptime_s * 1000),
                "version": __version__,
                "uptimeSeconds": round(uptime_s, 3),
            },
            "agents": {
                name: {"running": status.running, "enabled": status.enabled}
                for name, status in self.agent_statuses().items()
            },
            "health": {"overall": self.health.overall(), "platforms": dict(self.health.platforms)},
            "alerts": {
                "active": counts.active,
                "total": counts.total,
                "autoResolved": counts.auto_resolved,
            },
            "repairs": {
                "total": repairs.total,
                "successRate": None if ratio is None else f"{round(100 * ratio)}%",
                "active": repairs.active,
                "successRatio": ratio,
                "pendingApprovals": 0 if service is None else len(service.pending()),
            },
        }

    async def observe_security(self, records: Sequence[LogRecord]) -> int:
        """Hand pushed records (``POST /v1/security/events``) to the Security agent, publish
        what it concludes; how many events it published. ``AgentUnavailableError`` without one."""
        supervised = self.agents.get("Security")
        if supervised is None or not supervised.status.running:
            raise AgentUnavailableError("Security")
        from selfheal_ml.agents.security import SecurityAgent  # imported with the agent

        assert isinstance(supervised.agent, SecurityAgent)
        emitted = await supervised.agent.observe(records)
        for event in emitted:
            await self.bus.publish(event)
        return len(emitted)

    async def stop(self) -> None:
        """Stop the scheduler, the agents and the bus, then close the database."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for supervised in reversed(list(self.agents.values())):
            await supervised.stop()
        await self.bus.stop()
        self.alerts.close()
        for notifier in self.alerts.notifiers:
            close = getattr(notifier, "close", None)
            if close is not None:
                await asyncio.to_thread(close)
        self.database.close()
        log.info("Self-Healing System stopped")


def _intervals(settings: Settings) -> dict[str, float]:
    intervals = settings.intervals
    return {
        "health": intervals.health_check_s,
        "metrics": intervals.metrics_s,
        "optimize": intervals.optimization_s,
        "forecast": intervals.forecast_s,
        "capacity": intervals.capacity_s,
        "retrain": intervals.retrain_s,
        "rollup": intervals.rollup_s,
        "retention": intervals.retention_s,
        # the Security agent reads its log sources on this tick (only when it has some)
        **({"security": intervals.security_s} if settings.security.sources else {}),
    }


def _thresholds(settings: Settings) -> Thresholds:
    values = settings.thresholds
    return Thresholds(
        error_rate=values.error_rate,
        response_time_ms=values.response_time_ms,
        cpu_percent=values.cpu_percent,
        memory_percent=values.memory_percent,
        disk_percent=values.disk_percent,
    )


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    notifiers: list[Notifier] | None = None,
    extras: dict[str, Any] | None = None,
    bus: EventBus | None = None,
) -> Runtime:
    """Build (but do not start) every component; ``start_agents`` starts them.

    The bus is ``settings.bus`` (memory by default) unless ``bus`` is given (an agent process
    that tags its consumer groups: ``agent_process.py``)."""
    clock = clock or RealClock()
    log.info("Initializing Self-Healing System...")
    database = Database(
        settings.db_path,
        memory_limit_mb=settings.db_memory_limit_mb,
        allocator_background_threads=settings.db_allocator_background_threads,
        checkpoint_threshold_mb=settings.db_checkpoint_threshold_mb,
    )
    if bus is None:
        bus = build_bus(
            settings.bus, queue_size=settings.bus_queue_size, prefix=settings.bus_prefix
        )
    log.info("✓ Event Bus initialized (%s)", type(bus).__name__)
    metrics = MetricsStore(database, clock)
    log.info("✓ Metrics Store initialized (%s)", settings.db_path)
    alert_store = AlertStore(database)
    deliveries = DeliveryCounters()
    configured = build_notifiers(notifier_specs(settings), clock=clock, counters=deliveries)
    alerts = AlertManager(
        alert_store,
        clock,
        notifiers or [LogNotifier(), *configured],
        external_url=settings.external_url,
    )
    log.info("✓ Alert Manager initialized")
    anomalies = AnomalyStore(database)
    forecasts = ForecastStore(database)
    incidents = IncidentStore(database)
    tracker = Tracker(settings.mlflow_tracking_uri)
    overrides = dict(extras or {})
    # the demo passes a rules-only recommender unless asked to use the local @champion
    recommender = overrides.pop("repair_model", None) or RepairRecommender(tracker)
    optimizations = FindingBoard()
    repairs = RepairAuditStore(database)
    security = SecurityStore(database)
    platforms = monitor_platforms(settings, overrides)
    repair_service = build_repair_service(
        settings, repairs, clock, len(platforms), overrides.pop("repair_executors", None)
    )
    stores: dict[str, Any] = {
        "anomaly_store": anomalies,
        "forecast_store": forecasts,
        "incidents": incidents,
        "tracker": tracker,
        "repair_model": recommender,
        "repair_service": repair_service,
        "repair_cases": RepairStateStore(database),
        "security_store": security,
        "optimization_board": optimizations,
    }
    enabled = [name for name in AGENT_NAMES if settings.agent_enabled(name)]
    if "Security" in enabled:  # its detector brings river, its classifier scikit-learn
        stores.update(security_ports(settings, clock.now(), tracker))
    context = AgentContext(
        bus=bus,
        clock=clock,
        thresholds=_thresholds(settings),
        metrics=metrics,
        alerts=alerts,
        database=database,
        # without agents (serve --agents none) nobody reads the ports: none are built
        extras=agent_ports(settings, stores, overrides) if enabled else {**stores, **overrides},
    )
    agents = {
        name: SupervisedAgent(
            agent_class(name)(context),
            bus,
            max_failures=settings.supervisor_max_failures,
            backoff_base_s=0.01 if isinstance(clock, SimClock) else 0.5,
        )
        for name in enabled
    }
    scheduler = Scheduler(clock, bus, _intervals(settings))
    return Runtime(
        settings=settings,
        clock=clock,
        database=database,
        bus=bus,
        metrics=metrics,
        alerts=alerts,
        alert_store=alert_store,
        anomalies=anomalies,
        forecasts=forecasts,
        incidents=incidents,
        repair_recommender=recommender,
        repairs=repairs,
        repair_service=repair_service,
        health=HealthBoard(),
        agents=agents,
        scheduler=scheduler,
        security=security,
        optimizations=optimizations,
        deliveries=deliveries,
        agent_board=None if isinstance(bus, InMemoryEventBus) else AgentBoard(clock),
    )


async def _route_to_alert_manager(runtime: Runtime, events: Sequence[Event]) -> None:
    """The events queued for the AlertManager, in one worker-thread hop and one commit."""
    await run_blocking(runtime.clock, runtime.alerts.handle_events, events)


async def _housekeeping(runtime: Runtime, event: Event) -> None:
    """Schedule-driven chores that belong to no agent: rollups, retention, alert timers, and
    the checkpoint DuckDB skipped (``Database.checkpoint_if_due``)."""
    kind = getattr(event, "kind", "")
    if kind == "health":
        await run_blocking(runtime.clock, runtime.alerts.evaluate)
        await run_blocking(runtime.clock, runtime.database.checkpoint_if_due)
    elif kind == "rollup":
        await run_blocking(runtime.clock, runtime.metrics.rollup)
    elif kind == "retention":
        await run_blocking(runtime.clock, runtime.metrics.enforce_retention)
        cutoff = runtime.clock.now() - timedelta(days=ALERT_HISTORY_DAYS)
        await run_blocking(runtime.clock, runtime.alert_store.enforce_retention, cutoff)


async def _load_champion(runtime: Runtime) -> None:
    served = await run_blocking(runtime.clock, runtime.repair_recommender.reload)
    log.info("repair-strategy champion %s", "loaded" if served else "not found: rules decide")


async def start_agents(
    settings: Settings,
    *,
    db: str | None = None,
    redis: str | None = None,
    clock: Clock | None = None,
    run_scheduler: bool = True,
) -> Runtime:
    """The orchestrator: build everything from ``settings`` and start it.

    ``db`` and ``redis`` are the platform's PostgreSQL DSN and Redis URL, as in the original
    design's ``start_agents(db=database, redis=redis_client)``: they join the Monitor's targets.
    """
    extra_targets = []
    if db:
        extra_targets.append(Target(kind="postgres", name="database", url=db))
    if redis:
        extra_targets.append(Target(kind="redis", name="cache", url=redis))
    if extra_targets:
        settings = settings.model_copy(update={"targets": (*settings.targets, *extra_targets)})
    runtime = build_runtime(settings, clock=clock)
    return await start_runtime(runtime, run_scheduler=run_scheduler)


def _subscribe_services(runtime: Runtime) -> None:
    """The API process's own subscribers: AlertManager, health board, chores, agent board."""
    bus = runtime.bus
    for event_type in ALERTING_EVENTS:
        bus.subscribe(
            event_type,
            BatchHandler(lambda events: _route_to_alert_manager(runtime, events)),
            name=f"AlertManager:{event_type.__name__}",
        )
    bus.subscribe(HealthChecked, runtime.health.record, name="HealthBoard")
    bus.subscribe(Tick, lambda event: _housekeeping(runtime, event), name="Housekeeping")
    if runtime.agent_board is not None:
        bus.subscribe(AgentHeartbeat, runtime.agent_board.record, name="AgentBoard")


async def start_runtime(
    runtime: Runtime, *, run_scheduler: bool = True, host_services: bool = True
) -> Runtime:
    """Start the bus, wire the AlertManager, start the enabled agents in order, then ticks.

    An agent process (``host_services=False``) leaves the AlertManager, the boards and the
    chores to the API process: on a shared bus they would compete for its events."""
    bus = runtime.bus
    if host_services:
        _subscribe_services(runtime)
    await bus.start()
    if host_services:  # the process that holds the store and the Repair agent
        await runtime.repair_service.resume()  # approvals, guard state, unverified repairs
    if not runtime.settings.enable_self_healing:
        log.info("Self-healing disabled (ENABLE_SELF_HEALING=false): API only, no agents")
    for name, supervised in runtime.agents.items():
        await supervised.start()
        log.info("✓ %s Agent initialized", name)
    for name in AGENT_NAMES:
        if name not in runtime.agents and runtime.settings.enable_self_healing:
            log.info("- %s Agent disabled", name)
    if CHAMPION_USERS & runtime.agents.keys() and tracking_store_exists(
        runtime.settings.mlflow_tracking_uri
    ):
        # the champion loads in the background; until it does, the rules answer. Without
        # these agents the first /v1/repair/recommend loads it (MLflow, scikit-learn)
        runtime._tasks.append(asyncio.create_task(_load_champion(runtime)))
    if run_scheduler:
        runtime._tasks.append(asyncio.create_task(runtime.scheduler.run_forever()))
    if runtime.agent_board is not None and runtime.agents:
        from selfheal_ml.bus.redis_streams import default_consumer  # a shared bus: Redis

        beats = beat_forever(bus, runtime.agents, runtime.clock, default_consumer())
        runtime._tasks.append(asyncio.create_task(beats))
    log.info("✅ All agents started")
    return runtime
