"""Wiring from Settings to ports: the Monitor's collectors, the agents' extras, the repair service.

Part of the composition root (only it, the API and the CLI see Settings): it turns the
configuration into ready-made objects, so agents never read settings themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from selfheal_ml.actions import (
    DEFAULT_RISK_TIERS,
    Executor,
    ExecutorRoutes,
    GuardPolicy,
    ProcessRestartExecutor,
    RepairJournal,
    RepairService,
    SafetyGuard,
)
from selfheal_ml.alerting.outbound import NotifierSpec
from selfheal_ml.clock import Clock
from selfheal_ml.collectors import (
    Collector,
    TargetSpec,
    build_collectors,
    collection_timeout_s,
    simulator_targets,
)
from selfheal_ml.collectors.log_source import LogSource, LogSourceSpec, offsets_file
from selfheal_ml.collectors.log_tail import JsonOffsetStore
from selfheal_ml.config import Settings
from selfheal_ml.diagnosis.investigation import Finding, Investigator
from selfheal_ml.security.ban_policy import BanPolicy
from selfheal_ml.security.formats import LogFormat
from selfheal_ml.storage.repair_state import RepairStateStore
from selfheal_ml.storage.repairs import RepairAuditStore

if TYPE_CHECKING:
    from selfheal_ml.collectors.postgres_analysis import PostgresAnalyser
    from selfheal_ml.collectors.redis_analysis import RedisAnalyser
    from selfheal_ml.security.request_classifier import RequestScorer
    from selfheal_ml.sim import PlatformSimulator
    from selfheal_ml.tracking import Tracker

SIMULATED_PLATFORMS = (
    "leadsite.ai",
    "leadsite.io",
    "clientcontact.io",
    "videosite.io",
    "tackle.io",
)


def notifier_specs(settings: Settings) -> list[NotifierSpec]:
    """The ``[[notifiers]]`` of ``settings`` as plain specs for the alerting package."""
    return [
        NotifierSpec(
            kind=notifier.kind,
            name=notifier.display_name(),
            url=notifier.url,
            bearer_token=(
                notifier.bearer_token.get_secret_value() if notifier.bearer_token else None
            ),
            send_resolved=notifier.send_resolved,
            timeout_s=notifier.timeout_s,
            retries=notifier.retries,
            backoff_s=notifier.backoff_s,
            max_backoff_s=notifier.max_backoff_s,
            max_alerts=notifier.max_alerts,
            resend_s=notifier.resend_s,
        )
        for notifier in settings.notifiers
    ]


def target_specs(settings: Settings) -> list[TargetSpec]:
    """The Monitor's targets: the configured ones, else the live simulator's platforms."""
    if not settings.targets:
        return simulator_targets(settings.simulator_url, SIMULATED_PLATFORMS)
    return [
        TargetSpec(
            kind=target.kind,
            name=target.name,
            url=target.url,
            platform=target.platform or None,
            timeout_s=target.timeout_s,
            disk_path=target.disk_path,
            slow_query_ms=target.slow_query_ms,
            queries=target.queries,
        )
        for target in settings.targets
    ]


#: Base URL of the in-process simulator (no socket: its transport answers every request).
IN_PROCESS_SIMULATOR_URL = "http://simulator.in-process"


def simulator_collectors(simulator: PlatformSimulator) -> list[Collector]:
    """The collectors ``serve`` runs against ``sim serve`` (a probe and a scrape per platform,
    a scrape per shared dependency), reading ``simulator`` in process: the demo's and the
    chaos benchmark's Monitor. Only the transport differs from the service's."""
    from selfheal_ml.sim.transport import SimulatorTransport

    specs = simulator_targets(IN_PROCESS_SIMULATOR_URL, simulator.platform_names)
    return build_collectors(specs, SimulatorTransport(simulator))


def monitor_ports(settings: Settings) -> dict[str, Any]:
    """Collectors, platform names and the round deadline for the Monitor agent (enough for
    every wave of targets, at most the health-check interval: ``collection_timeout_s``)."""
    specs = target_specs(settings)
    return {
        "collectors": build_collectors(specs),
        "platforms": sorted({spec.platform for spec in specs if spec.platform}),
        "collection_timeout_s": collection_timeout_s(
            specs, ceiling_s=settings.intervals.health_check_s
        ),
    }


def change_feed_ports(settings: Settings) -> dict[str, Any]:
    """The configuration changes of ``change_feed_url`` (by default the simulator's feed when
    watching it) as the Diagnostic agent's ``change_log``, polled each health tick
    (``change_refresh``): a bad push is told from a crash by the change before its errors
    (:mod:`selfheal_ml.collectors.change_feed`). Nothing with targets and no feed."""
    from selfheal_ml.collectors.change_feed import ChangeFeed

    url = settings.change_feed_url
    if url is None and not settings.targets:
        url = f"{settings.simulator_url.rstrip('/')}/sim/config-changes"
    if url is None:
        return {}
    feed = ChangeFeed(url)
    return {"change_log": feed.changes, "change_refresh": feed.refresh}


def monitor_platforms(settings: Settings, overrides: Mapping[str, Any]) -> list[str]:
    """The platforms watched: ``overrides["platforms"]`` if given, else the targets'."""
    if "platforms" in overrides:
        return list(overrides["platforms"])
    return sorted({spec.platform for spec in target_specs(settings) if spec.platform})


SIMULATOR_ACTIONS = (
    "restart_service", "clear_cache", "reset_db_connections", "restart_background_job",
    "rollback_config", "restore_from_backup", "add_index", "reindex", "clear_temp_files",
    "scale_out", "block_ip",
)  # fmt: skip


POSTGRES_ACTIONS = (
    "pg_terminate_idle", "pg_terminate_stuck", "pg_reindex", "pg_create_index_concurrently",
)  # fmt: skip
REDIS_ACTIONS = ("redis_delete_pattern", "redis_memory_purge")


def repair_executors(settings: Settings) -> ExecutorRoutes:
    """Executors by action and target: the simulator's actions when watching it, else one
    PostgreSQL or Redis executor per database or cache target (a repair runs on the target its
    incident names, or is refused), and ``restart_process`` from the targets'
    ``restart_command``."""
    routes = ExecutorRoutes()
    if not settings.targets:
        from selfheal_ml.actions.simulator import SimulatorExecutor

        simulator = SimulatorExecutor(settings.simulator_url)
        for action in SIMULATOR_ACTIONS:
            routes.add(action, simulator)
    for target in settings.targets:
        executor: Executor
        actions: tuple[str, ...]
        # each executor's driver (psycopg, redis) is imported when a target needs it
        if target.kind == "postgres":
            from selfheal_ml.actions.postgres import PostgresExecutor

            executor, actions = (
                PostgresExecutor(f"postgres:{target.name}", target.url),
                POSTGRES_ACTIONS,
            )
        elif target.kind == "redis":
            from selfheal_ml.actions.redis_operations import RedisExecutor

            executor, actions = RedisExecutor(f"redis:{target.name}", target.url), REDIS_ACTIONS
        else:
            continue
        for action in actions:
            routes.add(action, executor, target=target.name, platform=target.platform)
    restarts: dict[str, tuple[str, ...]] = {}
    for target in settings.targets:
        if target.restart_command:  # addressed by the target's name or by its platform
            restarts[target.name] = target.restart_command
            if target.platform:
                restarts.setdefault(target.platform, target.restart_command)
    if restarts:
        routes.add("restart_process", ProcessRestartExecutor(restarts))
    return routes


def build_repair_service(
    settings: Settings,
    audit: RepairAuditStore,
    clock: Clock,
    platform_count: int,
    executors: Mapping[str, Executor] | ExecutorRoutes | None = None,
) -> RepairService:
    """The one safety guard and the executors every repair goes through (``executors``
    replaces the configured ones, e.g. the demo's in-process simulator); its state is kept
    in the audit log's database (:class:`RepairJournal`), so it survives a crash."""
    repair = settings.agents.repair
    policy = GuardPolicy(
        enabled=settings.enable_self_healing and settings.agent_enabled("Repair"),
        auto_repair=repair.auto,
        platform_count=max(1, platform_count),
        cooldown_s=repair.cooldown_s,
        approval_timeout_s=repair.approval_timeout_s,
        breaker_threshold=repair.breaker_threshold,
        risk_tiers={**DEFAULT_RISK_TIERS, **dict.fromkeys(repair.approval_actions, "high")},
    )
    chosen = repair_executors(settings) if executors is None else executors
    journal = RepairJournal(RepairStateStore(audit.database))
    return RepairService(SafetyGuard(policy), chosen, audit, clock, journal)


FRESH_ROUNDS = 2.5


def loop_timing(settings: Settings) -> dict[str, dict[str, float]]:
    """The Diagnostic and Repair agents' timing numbers from the settings (their ``diagnosis``
    and ``repair`` ports; numbers not set here keep the agents' own defaults)."""
    repair = settings.agents.repair
    return {
        "diagnosis": {"settle_s": settings.agents.diagnostic.settle_s},
        "predictive": {
            "leak_window_s": settings.agents.predictive.leak_window_s,
            "leak_ramp_z": settings.agents.predictive.leak_ramp_z,
            "disk_ramp_z": settings.agents.predictive.disk_ramp_z,
            "leak_confirm_s": settings.agents.predictive.leak_confirm_s,
        },
        "performance": {
            "sample_s": settings.agents.performance.sample_s,
            "propose_indexes": settings.agents.performance.propose_indexes,
            "problem_hold_s": settings.agents.performance.problem_hold_s,
        },
        "repair": {
            "verify_s": repair.verify_s,
            "plan_wait_s": repair.plan_wait_s,
            "analysis_wait_s": repair.analysis_wait_s,
            "retry_for_s": repair.retry_for_s,
            # a value older than two and a half collection rounds is stale: its target
            # stopped answering (the Repair agent never calls such a series healthy)
            "fresh_s": FRESH_ROUNDS * settings.intervals.metrics_s,
        },
    }


class ParameterScorer:
    """The request classifier as the detector's :class:`PayloadScorer`: a request's score is
    the highest of the whole text and each of its parameter values (an injection sits in one
    value; as a whole request ``admin'--`` scores 0.002, as a value 0.90)."""

    def __init__(self, scorer: RequestScorer) -> None:
        self.scorer = scorer
        self.threshold = scorer.threshold

    def score(self, texts: Sequence[str]) -> list[float]:
        """One score per request text, same order."""
        return [float(value) for value in self.scorer.score_by_parameter(texts)]


OFFSETS_EVERY_S = 1.0  # tail positions written at most once a wall-clock second


def security_ports(
    settings: Settings, now: datetime, tracker: Tracker | None = None
) -> dict[str, Any]:
    """The Security agent's ports: tailed log sources (offsets beside the DuckDB file), the
    detector with the configured thresholds and the request classifier (the registry's
    ``request-classifier@champion``, else the signatures; loaded only when sources are
    configured) and the ban policy; ``now`` dates syslog stamps."""
    # imported here: the detector brings river, the classifier scikit-learn and MLflow
    from selfheal_ml.security.detector import AttackDetector
    from selfheal_ml.security.profile_watch import PlatformProfiles
    from selfheal_ml.training.request_scorer_loading import load_request_scorer

    security = settings.security
    offsets = (
        JsonOffsetStore(offsets_file(settings.db_path), min_interval_s=OFFSETS_EVERY_S)
        if security.sources
        else None
    )
    sources = [
        LogSource(LogSourceSpec(s.path, LogFormat(s.format), s.platform), offsets, now)
        for s in security.sources
    ]
    scorer = ParameterScorer(load_request_scorer(tracker)) if sources else None
    profiles = (
        PlatformProfiles(security.request_profile_warmup, security.request_profile_threshold)
        if security.request_profile
        else None
    )
    detector = AttackDetector(security.detection_rules(), scorer=scorer, profiles=profiles)
    return {
        "security_sources": sources,
        "security_detector": detector,
        "ban_policy": BanPolicy(security.ban_settings(), security.never_ban_list()),
    }


def index_investigators(settings: Settings) -> list[Investigator]:
    """What the Diagnostic agent asks for the parameters of a fix (which index to add): one
    per PostgreSQL target. psycopg loads only when there is one (about 8 MB of a process)."""
    postgres = [target for target in settings.targets if target.kind == "postgres"]
    if not postgres:
        return []
    from selfheal_ml.collectors.query_trace import PostgresIndexInvestigator

    return [
        PostgresIndexInvestigator(target.url, finding=Finding, target=target.name)
        for target in postgres
    ]


def database_analysers(settings: Settings) -> dict[str, PostgresAnalyser | RedisAnalyser]:
    """The Performance agent's analysers, one per PostgreSQL and Redis target: it analyses
    each on the optimisation interval (and the Repair agent waits for its analysis of a
    slow-query incident on these databases). The client libraries (psycopg, redis: about
    15 MB of a process together) load only when a target of their kind is configured."""
    analysers: dict[str, PostgresAnalyser | RedisAnalyser] = {}
    for target in settings.targets:
        platform = target.platform or None
        if target.kind == "postgres":
            from selfheal_ml.collectors.postgres_analysis import PostgresAnalyser

            analysers[target.name] = PostgresAnalyser(
                target.url, name=target.name, platform=platform
            )
        elif target.kind == "redis":
            from selfheal_ml.collectors.redis_analysis import RedisAnalyser

            analysers[target.name] = RedisAnalyser(target.url, name=target.name, platform=platform)
    return analysers


def agent_ports(
    settings: Settings,
    stores: Mapping[str, Any],
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """The agents' ports; ``overrides`` (e.g. the demo's simulator collector) win.

    ``stores`` names the ready-made stores and services: ``anomaly_store``,
    ``forecast_store``, ``incidents``, ``tracker`` and ``repair_model``.
    """
    ports: dict[str, Any] = {
        **stores,
        "retrain_min_new": 50,
        "retrain_min_total": 30,
        "scoring_workers": settings.scoring_workers,
        "max_series_per_target": settings.limits.max_series_per_target,
        **loop_timing(settings),
    }
    if "collectors" not in overrides:
        ports.update(monitor_ports(settings))
    if "change_log" not in overrides:
        ports.update(change_feed_ports(settings))
    if "investigators" not in overrides:
        ports["investigators"] = index_investigators(settings)
    if "performance_analysers" not in overrides and settings.agent_enabled("Performance"):
        ports["performance_analysers"] = database_analysers(settings)
    ports.update(overrides)
    return ports
