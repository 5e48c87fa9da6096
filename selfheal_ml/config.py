"""Settings: the seed defaults, a TOML config file, and environment overrides.

Precedence, highest first: environment variables, the TOML file given with ``--config``, the
defaults below. Only ``runtime.py``, ``api/`` and ``cli.py`` read :class:`Settings`; everything
else receives ready-made objects.

The environment variables (names from the original design):

=================================  ==========================================
``ENABLE_SELF_HEALING``            false: serve the API, start no agents
``AGENT_<NAME>_ENABLED``           one per agent (MONITOR ... PERFORMANCE)
``AGENT_REPAIR_AUTO``              false: repairs are proposed and audited only
``SELFHEAL_ADMIN_TOKEN``           bearer token for ``/admin`` routes
``SELFHEAL_DB``                    DuckDB file (default ``data/selfheal.duckdb``)
``SELFHEAL_DB_MEMORY_LIMIT_MB``    DuckDB's memory limit in MB (256)
``SELFHEAL_DB_ALLOCATOR_THREADS``  DuckDB's allocator frees in background (true)
``SELFHEAL_DB_CHECKPOINT_MB``      DuckDB checkpoints at this WAL size in MB (1)
``MLFLOW_TRACKING_URI``            default ``sqlite:///mlruns/mlflow.db``
``SELFHEAL_<INTERVAL>_INTERVAL_S`` HEALTH_CHECK, METRICS, OPTIMIZATION
``SELFHEAL_SIMULATOR_URL``         the live simulator watched without targets
``SELFHEAL_SETTLE_S``              Diagnostic: wait before diagnosing (60)
``SELFHEAL_VERIFY_S``              Repair: verification window (300)
``SELFHEAL_PLAN_WAIT_S``           Repair: wait for a strategy (180)
``SELFHEAL_RETRY_FOR_S``           Repair: retry refused steps for (900)
``SELFHEAL_LEAK_WINDOW_S``         Predictive: capacity short look (0: off)
``SELFHEAL_LEAK_RAMP_Z``           Predictive: leak watch's z-score (0: off)
``SELFHEAL_DISK_RAMP_Z``           Predictive: disk watch's z-score (0: off)
``SELFHEAL_LEAK_CONFIRM_S``        Predictive: how long the leak evidence must hold (0)
``SELFHEAL_REPAIR_COOLDOWN_S``     guard: per-target cooldown (60)
``SELFHEAL_APPROVAL_TIMEOUT_S``    guard: approval expires after (900)
``SELFHEAL_SECURITY_DRY_RUN``      true: bans are recorded as "would ban" only
``SELFHEAL_EXTERNAL_URL``          the service's URL in notifications
``SELFHEAL_BUS``                   ``memory`` (default) or ``redis://...``
``SELFHEAL_BUS_PREFIX``            Redis stream key prefix (``selfheal``)
=================================  ==========================================

The loop's timing numbers default to the seed's; a test or a laptop shortens them to watch a
whole incident (diagnose, repair, verify) in seconds instead of minutes.

A bad value anywhere raises :class:`~selfheal_ml.errors.ConfigError` naming the setting (the
environment variable, or the TOML key), what was expected and what was given.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from selfheal_ml.errors import ConfigError
from selfheal_ml.metric_catalogue import DEFAULT_LIMITS
from selfheal_ml.security.ban_policy import BanSettings
from selfheal_ml.security.never_ban import NeverBanList
from selfheal_ml.security.rules import BucketRule, DetectionRules, JailRule, NoveltyRule

AGENT_NAMES: tuple[str, ...] = (
    "Monitor",
    "Security",
    "Diagnostic",
    "Repair",
    "Learning",
    "Predictive",
    "Performance",
)


class Section(BaseModel):
    """A config section: unknown keys are refused, values validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Intervals(Section):
    """How often each schedule fires, in seconds."""

    health_check_s: PositiveFloat = 30.0
    metrics_s: PositiveFloat = 60.0
    optimization_s: PositiveFloat = 300.0
    forecast_s: PositiveFloat = 3600.0
    capacity_s: PositiveFloat = 300.0
    retrain_s: PositiveFloat = 86400.0
    rollup_s: PositiveFloat = 300.0
    retention_s: PositiveFloat = 3600.0
    security_s: PositiveFloat = 5.0  # log sources read (only when [[security.sources]] exist)


class Thresholds(Section):
    """The seed's alert thresholds (defaults from the metric catalogue's one limits table)."""

    error_rate: float = Field(default=DEFAULT_LIMITS.error_rate, gt=0, le=1)
    response_time_ms: PositiveFloat = DEFAULT_LIMITS.response_time_ms
    cpu_percent: float = Field(default=DEFAULT_LIMITS.cpu_percent, gt=0, le=100)
    memory_percent: float = Field(default=DEFAULT_LIMITS.memory_percent, gt=0, le=100)
    disk_percent: float = Field(default=DEFAULT_LIMITS.disk_percent, gt=0, le=100)


class AgentToggle(Section):
    """Whether an agent starts."""

    enabled: bool = True


class DiagnosticToggle(AgentToggle):
    """The Diagnostic agent also has its settling time: how long an incident gathers
    symptoms before it is diagnosed (so signs arriving together are diagnosed together)."""

    settle_s: PositiveFloat = 60.0


class RepairToggle(AgentToggle):
    """The Repair agent also has the auto-repair switch (false = dry run) and the loop's
    timing: the verification window, how long to wait for a strategy, how long to retry a
    step the guard deferred, and the guard's per-target cooldown and approval timeout."""

    auto: bool = True
    verify_s: PositiveFloat = 300.0
    plan_wait_s: PositiveFloat = 180.0
    # how long a slow-query case waits for the Performance agent's analysis (Scenario 2)
    analysis_wait_s: PositiveFloat = 60.0
    retry_for_s: PositiveFloat = 900.0
    cooldown_s: NonNegativeFloat = 60.0
    approval_timeout_s: PositiveFloat = 900.0
    # ineffective attempts on one target before its circuit breaker opens
    breaker_threshold: PositiveInt = 3
    # actions that always wait for a person's approval (on top of the high-risk tier)
    approval_actions: tuple[Annotated[str, Field(min_length=1)], ...] = ()


class PerformanceToggle(AgentToggle):
    """The Performance agent also has its sampling burst (seconds of ``pg_stat_activity``
    looks per round while a problem is open) and whether it proposes the missing indexes it
    finds through the guard itself (off: the Diagnostic -> Repair path already proposes the
    index of a slow-query incident; on, both could ask a human for the same index)."""

    sample_s: NonNegativeFloat = 2.0
    propose_indexes: bool = False
    # how long a latency anomaly or slow-query diagnosis keeps a database's rounds sampling
    problem_hold_s: PositiveFloat = 900.0


class PredictiveToggle(AgentToggle):
    """The Predictive agent also has the capacity check's short look for memory and disk
    (``leak_window_s``: the minutes of growth the platform's traffic does not explain,
    extrapolated 6 h ahead). 0, the default, turns it off: on the development seeds it found
    24 of 25 simulated leaks but also restarted healthy platforms (docs/benchmarks.md).
    ``leak_ramp_z`` is the leak watch's threshold (``agents/leak_watch.py``: a memory ramp
    its platform's traffic does not explain, against a model learnt over a day); 0 turns the
    watch off. ``disk_ramp_z`` is the same watch's threshold on host disks (a disk that fills;
    0 turns it off). ``leak_confirm_s`` is how long that evidence must hold before the watch
    predicts a breach (a rule's ``for:``; 0: at once, because a leak that expires soon after
    it shows is otherwise missed)."""

    leak_window_s: NonNegativeFloat = 0.0
    leak_ramp_z: NonNegativeFloat = 5.5
    disk_ramp_z: NonNegativeFloat = 6.5
    leak_confirm_s: NonNegativeFloat = 0.0


class Agents(Section):
    """One toggle per agent."""

    monitor: AgentToggle = AgentToggle()
    security: AgentToggle = AgentToggle()
    diagnostic: DiagnosticToggle = DiagnosticToggle()
    repair: RepairToggle = RepairToggle()
    learning: AgentToggle = AgentToggle()
    predictive: PredictiveToggle = PredictiveToggle()
    performance: PerformanceToggle = PerformanceToggle()

    @field_validator("performance", "predictive", mode="before")
    @classmethod
    def _plain_toggle(cls, value: object) -> object:
        """A plain :class:`AgentToggle` (as for every other agent) keeps the defaults of the
        Performance and Predictive agents' other settings."""
        if type(value) is AgentToggle:
            return value.model_dump()
        return value

    def enabled(self, agent: str) -> bool:
        """Whether the agent called ``agent`` (e.g. ``"Repair"``) is enabled."""
        toggle: AgentToggle = getattr(self, agent.lower())
        return toggle.enabled


class Target(Section):
    """Something the Monitor watches."""

    kind: Literal["http", "prometheus", "prometheus_query", "postgres", "redis", "host"]
    name: str = Field(min_length=1)
    url: str = ""
    platform: str = ""
    timeout_s: PositiveFloat = 5.0
    disk_path: str = "/"
    # postgres: an active query running longer than this counts in db_slow_queries
    slow_query_ms: PositiveFloat = Field(default=1000.0, allow_inf_nan=False)
    # the argv (no shell) that restarts this target's process, e.g. ["systemctl", "restart",
    # "shop"]: the Repair agent's restart_service runs it through the guard (empty: no restart)
    restart_command: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    # prometheus_query: PromQL expressions evaluated against the base URL ``url`` each round
    queries: tuple[Annotated[str, Field(min_length=1)], ...] = ()

    @model_validator(mode="after")
    def _queries_for_prometheus_query(self) -> Target:
        if self.kind == "prometheus_query" and not self.queries:
            raise ValueError("a prometheus_query target lists its PromQL expressions in queries")
        if self.kind != "prometheus_query" and self.queries:
            raise ValueError(f"queries apply to prometheus_query targets only, not {self.kind}")
        return self


class LogSourceSetting(Section):
    """A log file the Security agent tails (``[[security.sources]]``)."""

    path: str = Field(min_length=1)
    format: Literal["auto", "sshd", "pam", "combined", "jsonl"] = "auto"
    platform: str = ""


class JailSetting(Section):
    """fail2ban counting: ``maxretry`` failures within ``findtime_s``; an accepted login
    forgives the address's failures for that account unless ``forgive_on_success`` is off."""

    maxretry: PositiveInt = 5
    findtime_s: PositiveFloat = 600.0
    forgive_on_success: bool = True

    def rule(self) -> JailRule:
        """The domain rule."""
        return JailRule(self.maxretry, self.findtime_s, self.forgive_on_success)


class BucketSetting(Section):
    """CrowdSec leaky bucket: overflow past ``capacity``, one leaks every ``leak_s``."""

    capacity: PositiveInt
    leak_s: PositiveFloat
    blackhole_s: NonNegativeFloat = 300.0

    def rule(self) -> BucketRule:
        """The domain rule."""
        return BucketRule(self.capacity, self.leak_s, self.blackhole_s)


_RULES = DetectionRules()


def _bucket_setting(rule: BucketRule) -> BucketSetting:
    return BucketSetting(capacity=rule.capacity, leak_s=rule.leak_s, blackhole_s=rule.blackhole_s)


class SecuritySettings(Section):
    """Log sources, detection thresholds and the ban policy (docs/security.md).

    ``never_ban`` adds addresses or CIDRs (the service's own, health checkers) to loopback,
    which is always there. ``dry_run`` records bans as "would ban" and enforces none.
    """

    sources: tuple[LogSourceSetting, ...] = ()
    never_ban: tuple[str, ...] = ()
    dry_run: bool = False
    bantime_s: PositiveFloat = 600.0
    bantime_factor: float = Field(default=2.0, ge=1.0)
    max_bantime_s: PositiveFloat = 7 * 86_400.0
    max_new_bans_per_minute: PositiveInt = 30
    brute_force: JailSetting = JailSetting()
    slow_brute_force: JailSetting = JailSetting(maxretry=5, findtime_s=86_400.0)
    credential_stuffing: BucketSetting = _bucket_setting(_RULES.credential_stuffing)
    distributed_brute_force: BucketSetting = _bucket_setting(_RULES.distributed_brute_force)
    # after a distributed brute force on an account, every address failing it is named for
    # this long after the latest failure (0: the account alone is reported)
    distributed_campaign_s: NonNegativeFloat = _RULES.distributed_campaign_s
    scraping: BucketSetting = _bucket_setting(_RULES.scraping)
    api_key_misuse: BucketSetting = _bucket_setting(_RULES.api_key_misuse)
    injection: BucketSetting = _bucket_setting(_RULES.injection)
    novelty_threshold: float = Field(default=_RULES.novelty.threshold, gt=0, le=1)
    # a request profile per platform learnt from the requests read (security/profile_watch.py):
    # off by default; its findings (unusual_request) are warnings, never bans by themselves
    request_profile: bool = False
    request_profile_warmup: PositiveInt = 2000
    request_profile_threshold: PositiveFloat = 4.0  # -log10 of the request's likelihood
    unusual_request: BucketSetting = _bucket_setting(_RULES.unusual_request)
    # keys CrowdSec bouncers send as X-Api-Key to /v1/decisions (none: that API refuses all)
    bouncer_api_keys: tuple[SecretStr, ...] = ()
    # POST /v1/security/events: larger batches are refused with 413
    max_event_batch: PositiveInt = 5000
    max_event_batch_bytes: PositiveInt = 4 * 1024 * 1024

    @field_validator("bouncer_api_keys")
    @classmethod
    def _long_keys(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for key in keys:
            if len(key.get_secret_value()) < 16:
                raise ValueError("API keys of at least 16 characters (e.g. openssl rand -hex 16)")
        return keys

    @field_validator("never_ban")
    @classmethod
    def _networks(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        try:
            NeverBanList(entries)
        except ValueError as exc:
            raise ValueError(f"addresses or CIDR networks such as 10.0.0.0/8 ({exc})") from exc
        return entries

    def detection_rules(self) -> DetectionRules:
        """The detector's thresholds."""
        return DetectionRules(
            brute_force=self.brute_force.rule(),
            slow_brute_force=self.slow_brute_force.rule(),
            credential_stuffing=self.credential_stuffing.rule(),
            distributed_brute_force=self.distributed_brute_force.rule(),
            distributed_campaign_s=self.distributed_campaign_s,
            scraping=self.scraping.rule(),
            api_key_misuse=self.api_key_misuse.rule(),
            injection=self.injection.rule(),
            unusual_request=self.unusual_request.rule(),
            novelty=NoveltyRule(threshold=self.novelty_threshold),
        )

    def ban_settings(self) -> BanSettings:
        """The ban policy's knobs."""
        return BanSettings(
            bantime_s=self.bantime_s,
            factor=self.bantime_factor,
            max_bantime_s=self.max_bantime_s,
            max_new_bans_per_minute=self.max_new_bans_per_minute,
            dry_run=self.dry_run,
        )

    def never_ban_list(self) -> NeverBanList:
        """Loopback plus the configured addresses and networks."""
        return NeverBanList(self.never_ban)


class Limits(Section):
    """What one request, client or target may cost (docs/hardening.md); safe defaults.

    Bodies larger than ``max_body_bytes`` get 413 while they stream in; a body still arriving
    after ``body_timeout_s`` gets 408. Requests without the admin token to the compute routes
    are limited per client address to ``client_rate_per_s`` (bursts of ``client_burst``) and
    ``client_concurrency`` at once (429 with ``Retry-After``); at most ``compute_threads``
    compute requests run at once, off the event loop, the pure ones (scoring a batch, fitting
    a forecast) in ``compute_processes`` worker processes (0: in threads) so they do not hold
    the API's GIL and ``/health`` stays fast.
    """

    max_body_bytes: PositiveInt = 10_000_000
    body_timeout_s: PositiveFloat = 30.0
    max_label_name_length: PositiveInt = 128
    max_label_value_length: PositiveInt = 1024
    max_labels: PositiveInt = 64
    max_annotation_length: PositiveInt = 16_384
    max_series_name_length: PositiveInt = 500
    max_points_per_request: PositiveInt = 10_000
    max_series_per_target: PositiveInt = 5_000
    max_pattern_length: PositiveInt = 1_024
    client_rate_per_s: PositiveFloat = 20.0
    client_burst: PositiveInt = 40
    client_concurrency: PositiveInt = 4
    # a 429 is sent after this delay (at most its Retry-After): clients that retry at once
    # cost the event loop one refusal per delay per connection, not one per round trip
    client_refusal_delay_s: NonNegativeFloat = 1.0
    compute_threads: PositiveInt = 2
    compute_processes: NonNegativeInt = 2
    # uvicorn: idle keep-alive connections closed after, at most this many connections open
    keep_alive_timeout_s: PositiveInt = 5
    max_connections: PositiveInt = 1_000
    # /ready: the data directory's file system must keep at least this much free space
    min_free_disk_bytes: NonNegativeInt = 512 * 1024 * 1024


class NotifierSetting(Section):
    """Where alert notifications go (``[[notifiers]]``, docs/prometheus.md).

    ``webhook`` POSTs Alertmanager's webhook v4 JSON to ``url``; ``alertmanager`` posts to an
    Alertmanager's API v2 (``url`` is its base, e.g. ``http://alertmanager:9093``) and
    re-sends firing alerts every ``resend_s``. Failed deliveries are retried ``retries``
    times, ``backoff_s`` doubling up to ``max_backoff_s``, on the notifier's own thread.
    """

    kind: Literal["webhook", "alertmanager"]
    name: str = ""
    url: str = Field(pattern=r"^https?://\S+$")
    bearer_token: SecretStr | None = None
    send_resolved: bool = True
    timeout_s: PositiveFloat = 5.0
    retries: int = Field(default=3, ge=0, le=20)
    backoff_s: NonNegativeFloat = 1.0
    max_backoff_s: PositiveFloat = 30.0
    max_alerts: int = Field(default=0, ge=0)
    resend_s: PositiveFloat = 60.0

    @model_validator(mode="after")
    def _backoff_within_cap(self) -> NotifierSetting:
        if self.backoff_s > self.max_backoff_s:
            raise ValueError(f"backoff_s at most max_backoff_s ({self.max_backoff_s})")
        return self

    def display_name(self) -> str:
        """``name``, else ``<kind>:<url>``."""
        return self.name or f"{self.kind}:{self.url}"


class RemoteWriteSettings(Section):
    """``POST /api/v1/write`` (Prometheus remote write 1.0): bodies above these sizes get 413."""

    max_body_bytes: PositiveInt = 16 * 1024 * 1024
    max_decoded_bytes: PositiveInt = 64 * 1024 * 1024


class ScoreExportSettings(Section):
    """Which series' anomaly scores and forecasts ``/metrics`` exposes (bounded cardinality):
    the listed ``series`` keys, else the ``top_n`` most anomalous of the last ``window_s``."""

    series: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    top_n: int = Field(default=20, ge=0, le=1000)
    window_s: PositiveFloat = 3600.0
    horizons_h: tuple[PositiveFloat, ...] = (1.0, 6.0, 24.0)


# environment variable -> path in the settings tree
ENVIRONMENT_PATHS: dict[str, tuple[str, ...]] = {
    "ENABLE_SELF_HEALING": ("enable_self_healing",),
    "AGENT_REPAIR_AUTO": ("agents", "repair", "auto"),
    "SELFHEAL_ADMIN_TOKEN": ("admin_token",),
    "SELFHEAL_DB": ("db_path",),
    "SELFHEAL_DB_MEMORY_LIMIT_MB": ("db_memory_limit_mb",),
    "SELFHEAL_DB_ALLOCATOR_THREADS": ("db_allocator_background_threads",),
    "SELFHEAL_DB_CHECKPOINT_MB": ("db_checkpoint_threshold_mb",),
    "MLFLOW_TRACKING_URI": ("mlflow_tracking_uri",),
    "SELFHEAL_HEALTH_CHECK_INTERVAL_S": ("intervals", "health_check_s"),
    "SELFHEAL_METRICS_INTERVAL_S": ("intervals", "metrics_s"),
    "SELFHEAL_OPTIMIZATION_INTERVAL_S": ("intervals", "optimization_s"),
    "SELFHEAL_SCORING_WORKERS": ("scoring_workers",),
    "SELFHEAL_SIMULATOR_URL": ("simulator_url",),
    "SELFHEAL_CHANGE_FEED_URL": ("change_feed_url",),
    "SELFHEAL_SETTLE_S": ("agents", "diagnostic", "settle_s"),
    "SELFHEAL_VERIFY_S": ("agents", "repair", "verify_s"),
    "SELFHEAL_PERFORMANCE_PROPOSE_INDEXES": ("agents", "performance", "propose_indexes"),
    "SELFHEAL_LEAK_WINDOW_S": ("agents", "predictive", "leak_window_s"),
    "SELFHEAL_LEAK_RAMP_Z": ("agents", "predictive", "leak_ramp_z"),
    "SELFHEAL_DISK_RAMP_Z": ("agents", "predictive", "disk_ramp_z"),
    "SELFHEAL_LEAK_CONFIRM_S": ("agents", "predictive", "leak_confirm_s"),
    "SELFHEAL_PLAN_WAIT_S": ("agents", "repair", "plan_wait_s"),
    "SELFHEAL_RETRY_FOR_S": ("agents", "repair", "retry_for_s"),
    "SELFHEAL_REPAIR_COOLDOWN_S": ("agents", "repair", "cooldown_s"),
    "SELFHEAL_APPROVAL_TIMEOUT_S": ("agents", "repair", "approval_timeout_s"),
    "SELFHEAL_REPAIR_BREAKER_THRESHOLD": ("agents", "repair", "breaker_threshold"),
    "SELFHEAL_SECURITY_DRY_RUN": ("security", "dry_run"),
    "SELFHEAL_MAX_BODY_BYTES": ("limits", "max_body_bytes"),
    "SELFHEAL_MIN_FREE_DISK_BYTES": ("limits", "min_free_disk_bytes"),
    "SELFHEAL_EXTERNAL_URL": ("external_url",),
    "SELFHEAL_BUS": ("bus",),
    "SELFHEAL_BUS_PREFIX": ("bus_prefix",),
    **{
        f"AGENT_{name.upper()}_ENABLED": ("agents", name.lower(), "enabled") for name in AGENT_NAMES
    },
}


def _nest(path: tuple[str, ...], value: object) -> dict[str, Any]:
    tree: dict[str, Any] = {path[-1]: value}
    for key in reversed(path[:-1]):
        tree = {key: tree}
    return tree


class NamedEnvironmentSource(PydanticBaseSettingsSource):
    """Reads exactly the environment variables of :data:`ENVIRONMENT_PATHS`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole tree

    def __call__(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for variable, path in ENVIRONMENT_PATHS.items():
            if variable in os.environ:
                merged = _deep_merge(merged, _nest(path, os.environ[variable]))
        return merged


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


class Settings(BaseSettings):
    """The effective configuration of one selfheal-ml process."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    enable_self_healing: bool = True
    admin_token: SecretStr | None = None
    db_path: str = "data/selfheal.duckdb"
    # DuckDB's buffer manager bound (its own default is 80 % of RAM): storage/database.py
    db_memory_limit_mb: int = Field(default=256, ge=32, le=1_048_576)
    # DuckDB's allocator returns freed pages to the system from background threads; off, the
    # service kept what a checkpoint freed (storage/database.py, issue 17)
    db_allocator_background_threads: bool = True
    # WAL size at which DuckDB checkpoints (its default 16): what it wrote since the last
    # checkpoint stays in its memory until then (storage/database.py, issue 17)
    db_checkpoint_threshold_mb: int = Field(default=1, ge=1, le=1024)
    mlflow_tracking_uri: str = "sqlite:///mlruns/mlflow.db"
    intervals: Intervals = Intervals()
    thresholds: Thresholds = Thresholds()
    agents: Agents = Agents()
    targets: tuple[Target, ...] = ()
    security: SecuritySettings = SecuritySettings()
    limits: Limits = Limits()
    # with no targets configured, the Monitor watches the live simulator (selfheal-ml sim serve)
    simulator_url: str = Field(default="http://127.0.0.1:8700", pattern=r"^https?://\S+$")
    # where the platforms' configuration changes are read (collectors/change_feed.py: JSON
    # {"changes": [{"change_id", "ts", "platform", "description"}]}); unset, the simulator's
    # feed when watching it, else none (a bad push is then told from a crash by nothing)
    change_feed_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    # events a subscriber may have queued: a storm over 20,000 series publishes 20,000
    # anomalies in one round, and at 10,000 the AlertManager and the agents dropped half
    bus_queue_size: int = Field(default=50_000, gt=0)
    # ``memory`` (one process) or a Redis URL shared by every process of a cluster (bus/)
    bus: str = Field(default="memory", pattern=r"^(memory|(rediss?|unix)://\S+)$")
    bus_prefix: str = Field(default="selfheal", pattern=r"^[A-Za-z0-9_.:-]+$")
    # processes that score a share of the series beside the main one (scoring/shards.py);
    # 0 keeps all scoring in the service's process
    scoring_workers: int = Field(default=0, ge=0, le=32)
    supervisor_max_failures: int = Field(default=5, gt=0)
    # the service's URL as users reach it: externalURL and generatorURL of notifications
    external_url: str = Field(default="http://localhost:8000", pattern=r"^https?://\S+$")
    notifiers: tuple[NotifierSetting, ...] = ()
    remote_write: RemoteWriteSettings = RemoteWriteSettings()
    score_export: ScoreExportSettings = ScoreExportSettings()

    @field_validator("notifiers")
    @classmethod
    def _distinct_notifier_names(
        cls, notifiers: tuple[NotifierSetting, ...]
    ) -> tuple[NotifierSetting, ...]:
        names = [notifier.display_name() for notifier in notifiers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"notifiers with distinct names (duplicates: {duplicates})")
        return notifiers

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment first (wins), then the TOML file passed as init kwargs
        return (NamedEnvironmentSource(settings_cls), init_settings)

    @field_validator("admin_token")
    @classmethod
    def _token_not_blank(cls, token: SecretStr | None) -> SecretStr | None:
        """An empty token would start a service nobody can administer: refuse it."""
        if token is not None and not token.get_secret_value().strip():
            raise ValueError("a non-empty bearer token (unset it and use --dev for none)")
        return token

    def agent_enabled(self, agent: str) -> bool:
        """Whether ``agent`` starts: the global switch and its own toggle."""
        return self.enable_self_healing and self.agents.enabled(agent)

    def masked(self) -> dict[str, Any]:
        """The configuration as plain data with secrets masked, for ``config show``."""
        data = self.model_dump(mode="json")
        data["admin_token"] = "********" if self.admin_token else None
        data["security"]["bouncer_api_keys"] = ["********"] * len(self.security.bouncer_api_keys)
        data["mlflow_tracking_uri"] = mask_url_secrets(self.mlflow_tracking_uri)
        data["simulator_url"] = mask_url_secrets(self.simulator_url)
        if self.change_feed_url is not None:
            data["change_feed_url"] = mask_url_secrets(self.change_feed_url)
        for target in data["targets"]:
            target["url"] = mask_url_secrets(target["url"])
        for notifier in data["notifiers"]:
            notifier["bearer_token"] = "********" if notifier["bearer_token"] else None
            notifier["url"] = mask_url_secrets(notifier["url"])
        return data


def mask_url_secrets(url: str) -> str:
    """``url`` with the password of its userinfo and of any password-like query or
    connection-string parameter replaced by ``********``.

    >>> mask_url_secrets("postgresql://shop:s3cret@db:5432/shop?sslmode=require")
    'postgresql://shop:********@db:5432/shop?sslmode=require'
    >>> mask_url_secrets("redis://:pw@cache:6379/0")
    'redis://:********@cache:6379/0'
    >>> mask_url_secrets("host=db user=shop password=s3cret dbname=shop")
    'host=db user=shop password=******** dbname=shop'
    >>> mask_url_secrets("postgresql://db/shop?password=x&user=u")
    'postgresql://db/shop?password=********&user=u'
    """
    masked = _USERINFO_PASSWORD.sub(r"\1********\2", url)
    return _PASSWORD_PARAMETER.sub(r"\1********", masked)


_USERINFO_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*:)[^@/?#]*(@)")
_PASSWORD_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;\s])(?:password|passwd|pwd|secret|token)=)[^&;\s]*"
)


def _setting_name(location: tuple[int | str, ...], environ: Mapping[str, str]) -> str:
    path = tuple(str(part) for part in location)
    for variable, variable_path in ENVIRONMENT_PATHS.items():
        if variable in environ and variable_path == path[: len(variable_path)]:
            return variable
    return ".".join(path)


def _describe_expected(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind.startswith("bool"):
        return "a boolean (true/false)"
    if kind == "string_pattern_mismatch":
        return "an http:// or https:// URL"
    if kind == "extra_forbidden":
        return "a known key (this one is not a setting)"
    if kind == "value_error":
        return str(error.get("msg", "a valid value")).removeprefix("Value error, ")
    if kind in {"greater_than", "greater_than_equal", "less_than_equal", "less_than"}:
        return f"a number {str(error['msg']).removeprefix('Input should be ')}"
    return str(error.get("msg", "a valid value")).removeprefix("Input should be ")


def load_settings(config_path: str | Path | None = None) -> Settings:
    """Build :class:`Settings` from defaults, the TOML file and ``os.environ``.

    Raises :class:`ConfigError` on the first invalid setting.
    """
    file_values: dict[str, Any] = {}
    if config_path is not None:
        path = Path(config_path)
        try:
            file_values = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError("--config", "an existing TOML file", str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"valid TOML ({exc})", str(path)) from exc
    try:
        return Settings(**file_values)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        name = _setting_name(tuple(first["loc"]), os.environ)
        raise ConfigError(name, _describe_expected(first), first.get("input")) from exc
