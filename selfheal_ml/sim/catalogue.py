"""The fault catalogue: what can go wrong, what it looks like, and what fixes it.

This is the simulator's ground truth. Each :class:`FaultSpec` names its scope (one platform's
process or host, or a shared dependency that every platform uses), the :class:`Symptom` s it
produces (a metric moving up or down on the origin platform, on every affected platform, or on
the dependency itself), how long the symptoms take to show at full severity (``onset_s``), the
repair actions that end it, and the faults it is easily confused with (ambiguous on purpose).

>>> spec = CATALOGUE[FaultKind.DB_POOL_EXHAUSTION]
>>> spec.scope, [action.value for action in spec.fixing_actions]
('database', ['reset_db_connections'])
>>> FaultKind.DB_UNREACHABLE in spec.confusable_with
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

Scope = Literal["platform", "database", "cache"]
Direction = Literal["up", "down"]
Where = Literal["origin", "affected", "dependency"]


class FaultKind(StrEnum):
    """The kinds of fault the simulator can inject."""

    SERVICE_CRASH = "service_crash"
    MEMORY_LEAK = "memory_leak"
    DB_POOL_EXHAUSTION = "db_pool_exhaustion"
    DB_UNREACHABLE = "db_unreachable"
    SLOW_QUERY = "slow_query"
    STUCK_CACHE = "stuck_cache"
    STUCK_BACKGROUND_JOB = "stuck_background_job"
    BAD_CONFIG_PUSH = "bad_config_push"
    DISK_FILLING = "disk_filling"
    TRAFFIC_SURGE = "traffic_surge"
    BRUTE_FORCE_LOGIN = "brute_force_login"


class RepairAction(StrEnum):
    """The repair actions the simulator understands (``add_index`` and ``reindex`` both rebuild
    the missing index)."""

    RESTART_SERVICE = "restart_service"
    CLEAR_CACHE = "clear_cache"
    RESET_DB_CONNECTIONS = "reset_db_connections"
    RESTART_BACKGROUND_JOB = "restart_background_job"
    ROLLBACK_CONFIG = "rollback_config"
    RESTORE_FROM_BACKUP = "restore_from_backup"
    ADD_INDEX = "add_index"
    REINDEX = "reindex"
    CLEAR_TEMP_FILES = "clear_temp_files"
    SCALE_OUT = "scale_out"
    BLOCK_IP = "block_ip"


@dataclass(frozen=True)
class Symptom:
    """``metric`` moves ``direction`` on the origin platform, on every affected platform, or on
    the shared dependency (series without a platform label). An ``origin`` symptom does not
    apply to a dependency fault injected without a platform."""

    metric: str
    direction: Direction
    where: Where


@dataclass(frozen=True)
class FaultSpec:
    """Ground truth about one fault kind."""

    kind: FaultKind
    scope: Scope
    description: str
    symptoms: tuple[Symptom, ...]
    fixing_actions: tuple[RepairAction, ...]
    onset_s: float = 300.0
    confusable_with: tuple[FaultKind, ...] = ()


def _up(metric: str, where: Where = "origin") -> Symptom:
    return Symptom(metric, "up", where)


def _down(metric: str, where: Where = "origin") -> Symptom:
    return Symptom(metric, "down", where)


_K = FaultKind
_A = RepairAction

_SPECS: tuple[FaultSpec, ...] = (
    FaultSpec(
        _K.SERVICE_CRASH,
        "platform",
        "the platform's service process died; requests get 503s",
        (
            _up("http_error_ratio"),
            _up("http_5xx_per_s"),
            _down("host_cpu_percent"),
            _down("business_events_per_min"),
        ),
        (_A.RESTART_SERVICE,),
        onset_s=60.0,
        confusable_with=(_K.BAD_CONFIG_PUSH,),
    ),
    FaultSpec(
        _K.MEMORY_LEAK,
        "platform",
        "memory grows ~12 %/h at full severity until OOM errors",
        (_up("host_memory_percent"), _up("http_latency_p95_ms"), _up("host_cpu_percent")),
        (_A.RESTART_SERVICE,),
        onset_s=4 * 3600.0,
        confusable_with=(_K.TRAFFIC_SURGE,),
    ),
    FaultSpec(
        _K.DB_POOL_EXHAUSTION,
        "database",
        "connections leak until the pool is full; queries wait",
        (
            _up("db_connections_in_use", "dependency"),
            _up("http_latency_p95_ms", "affected"),
            _up("http_error_ratio", "affected"),
        ),
        (_A.RESET_DB_CONNECTIONS,),
        onset_s=120.0,
        confusable_with=(_K.DB_UNREACHABLE,),
    ),
    FaultSpec(
        _K.DB_UNREACHABLE,
        "database",
        "the database connection is lost (PostgreSQL restarted, the network dropped the"
        " sessions); database calls time out and fail until the pools reconnect",
        (
            _down("db_up", "dependency"),
            _down("db_connections_in_use", "dependency"),
            _up("http_latency_p95_ms", "affected"),
            _up("http_error_ratio", "affected"),
        ),
        (_A.RESET_DB_CONNECTIONS,),
        onset_s=60.0,
        confusable_with=(_K.DB_POOL_EXHAUSTION,),
    ),
    FaultSpec(
        _K.SLOW_QUERY,
        "database",
        "a query lost its index: the origin crawls, the DB slows all",
        (
            _up("db_slow_queries_per_s", "dependency"),
            _up("db_query_duration_ms", "dependency"),
            _up("http_latency_p95_ms"),
            _up("http_latency_p95_ms", "affected"),
        ),
        (_A.ADD_INDEX, _A.REINDEX),
        onset_s=120.0,
        confusable_with=(_K.STUCK_CACHE,),
    ),
    FaultSpec(
        _K.STUCK_CACHE,
        "cache",
        "Redis stops serving fresh keys: hit rate collapses, DB load rises",
        (
            _down("cache_hit_ratio", "dependency"),
            _up("redis_memory_used_bytes", "dependency"),
            _up("db_query_duration_ms", "dependency"),
            _up("http_latency_p95_ms", "affected"),
        ),
        (_A.CLEAR_CACHE,),
        onset_s=120.0,
        confusable_with=(_K.SLOW_QUERY,),
    ),
    FaultSpec(
        _K.STUCK_BACKGROUND_JOB,
        "platform",
        "the platform's background job hangs; its queue grows",
        (
            _up("background_job_queue_depth"),
            _up("background_job_last_success_age_s"),
            _down("business_events_per_min"),
        ),
        (_A.RESTART_BACKGROUND_JOB,),
        onset_s=1800.0,
    ),
    FaultSpec(
        _K.BAD_CONFIG_PUSH,
        "platform",
        "a configuration change breaks requests (error burst)",
        (_up("http_error_ratio"), _up("http_5xx_per_s"), _down("business_events_per_min")),
        (_A.ROLLBACK_CONFIG,),
        onset_s=60.0,
        confusable_with=(_K.SERVICE_CRASH,),
    ),
    FaultSpec(
        _K.DISK_FILLING,
        "platform",
        "temporary files fill the disk (~12 %/h) until writes fail",
        (_up("host_disk_percent"), _up("http_error_ratio")),
        (_A.CLEAR_TEMP_FILES,),
        onset_s=4 * 3600.0,
    ),
    FaultSpec(
        _K.TRAFFIC_SURGE,
        "platform",
        "traffic far beyond capacity: saturation, shed requests",
        (
            _up("http_requests_per_s"),
            _up("host_cpu_percent"),
            _up("http_latency_p95_ms"),
            _up("http_error_ratio"),
            _up("host_memory_percent"),
            # the surge's requests reach the shared database too (checked against the
            # dynamics in tests/unit/sim/test_sim_faults.py)
            _up("db_connections_in_use", "dependency"),
            _up("db_query_duration_ms", "dependency"),
        ),
        (_A.SCALE_OUT,),
        onset_s=120.0,
        confusable_with=(_K.MEMORY_LEAK,),
    ),
    FaultSpec(
        _K.BRUTE_FORCE_LOGIN,
        "platform",
        "one address hammers the login endpoint with guesses",
        (
            _up("auth_attempts_per_s"),
            _up("auth_failures_per_s"),
            _up("http_error_ratio"),
            _up("db_connections_in_use", "dependency"),  # each guess looks a user up
        ),
        (_A.BLOCK_IP,),
        onset_s=60.0,
    ),
)

CATALOGUE: dict[FaultKind, FaultSpec] = {spec.kind: spec for spec in _SPECS}


@dataclass(frozen=True)
class FaultRecord:
    """Ground truth about one injected fault (a snapshot; the simulator owns the live state).

    ``platform`` is where it started (``None`` for a dependency fault injected without one);
    ``platforms`` are all the platforms it affects, ``dependencies`` the shared dependencies
    whose series it moves (from its ``dependency`` symptoms). ``resolved_by`` is a repair
    action, or ``"expired"`` when its ``duration_s`` ran out first.
    """

    fault_id: str
    kind: FaultKind
    platform: str | None
    platforms: tuple[str, ...]
    severity: float
    injected_at: datetime
    expires_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    symptoms: tuple[Symptom, ...]
    fixing_actions: tuple[RepairAction, ...]
    details: tuple[tuple[str, str], ...] = ()
    dependencies: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the fault is still in effect."""
        return self.resolved_at is None


@dataclass(frozen=True)
class ActionResult:
    """What a repair action did: whether it ended any fault, which ones, and what it cost."""

    action: RepairAction
    platform: str
    fixed: bool
    fault_ids: tuple[str, ...]
    cost: str


@dataclass(frozen=True)
class Campaign:
    """A benign traffic spike (a marketing campaign): ground truth for false-positive analysis."""

    platform: str
    start: datetime
    end: datetime
    multiplier: float
