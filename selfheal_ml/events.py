"""Channels and typed events: the vocabulary the agents speak on the bus.

Every event is a frozen pydantic model with ``event_id``, ``ts`` (timezone-aware UTC),
``source`` (the agent or component that emitted it), ``channel`` and ``correlation_id`` (which
follows one incident from first anomaly to verified repair). Class names are past-tense facts.

The seven channels come from the original design; ``system.schedule`` is internal and carries
only :class:`Tick` events from the scheduler.

>>> from datetime import datetime, UTC
>>> tick = Tick(ts=datetime(2026, 1, 1, tzinfo=UTC), source="scheduler", kind="collect")
>>> tick.channel.value
'system.schedule'
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from selfheal_ml.lifecycle import Diagnosis, IncidentStatus
from selfheal_ml.lifecycle import Severity as Severity


class Channel(StrEnum):
    """The bus channels."""

    HEALTH = "system.health"
    ALERT = "system.alert"
    METRIC = "system.metric"
    REPAIR = "system.repair"
    SECURITY = "system.security"
    PREDICTION = "system.prediction"
    OPTIMIZATION = "system.optimization"
    SCHEDULE = "system.schedule"


HealthStatus = Literal["healthy", "degraded", "down"]


def new_id() -> str:
    """A fresh random identifier (hex uuid4)."""
    return uuid.uuid4().hex


class Event(BaseModel):
    """Base of every bus event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(default_factory=new_id)
    ts: AwareDatetime
    source: str
    channel: Channel
    correlation_id: str = Field(default_factory=new_id)


class Tick(Event):
    """A schedule fired: ``kind`` names it (e.g. ``collect``, ``health``, ``optimize``)."""

    channel: Literal[Channel.SCHEDULE] = Channel.SCHEDULE
    kind: str


def series_key(name: str, labels: dict[str, str] | None = None) -> str:
    r"""The canonical series id: Prometheus style, labels sorted by name, values escaped as in
    the exposition format (``\\``, ``\"``, ``\n``), so two label sets never share a key.

    >>> series_key("http_latency_p95_ms", {"platform": "leadsite.ai", "endpoint": "/api"})
    'http_latency_p95_ms{endpoint="/api",platform="leadsite.ai"}'
    >>> series_key("host_cpu_percent")
    'host_cpu_percent'
    >>> series_key("m", {"a": 'x",b="y'}) != series_key("m", {"a": "x", "b": "y"})
    True
    """
    if not labels:
        return name
    inner = ",".join(f'{key}="{escape_label_value(labels[key])}"' for key in sorted(labels))
    return f"{name}{{{inner}}}"


def escape_label_value(value: str) -> str:
    r"""A label value escaped as in Prometheus' text exposition.

    >>> print(escape_label_value('C:\\temp "x"'))
    C:\\temp \"x\"
    """
    if "\\" not in value and '"' not in value and "\n" not in value:
        return value  # the common case: nothing to escape, no copies
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def unescape_label_value(text: str) -> str:
    r"""The inverse of :func:`escape_label_value`.

    >>> value = 'a\\b "c"\nd'
    >>> unescape_label_value(escape_label_value(value)) == value
    True
    """
    if "\\" not in text:
        return text
    out: list[str] = []
    characters = iter(text)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            out.append("\n" if following == "n" else following)
        else:
            out.append(character)
    return "".join(out)


class MetricPoint(BaseModel):
    """One observation of one series; ``series`` is :func:`series_key` of name and labels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: str
    ts: AwareDatetime
    value: float
    labels: dict[str, str] = Field(default_factory=dict)


class MetricsCollected(Event):
    """A collection round produced these points."""

    channel: Literal[Channel.METRIC] = Channel.METRIC
    points: tuple[MetricPoint, ...]


class HealthChecked(Event):
    """The health of one target was assessed."""

    channel: Literal[Channel.HEALTH] = Channel.HEALTH
    target: str
    status: HealthStatus
    detail: str = ""


class AgentFailed(Event):
    """The supervisor gave up on an agent after repeated handler failures."""

    channel: Literal[Channel.HEALTH] = Channel.HEALTH
    agent: str
    error: str
    failures: int


class AgentHeartbeat(Event):
    """An agent is alive in some process (``process``: host and pid), with its counters.

    Processes that host agents on a shared bus publish one every few seconds, so the API
    reports agents wherever they run (``agents/heartbeats.py``)."""

    channel: Literal[Channel.HEALTH] = Channel.HEALTH
    agent: str
    process: str
    running: bool
    failed: bool = False
    handled: int = 0
    errors: int = 0
    restarts: int = 0


class AlertRaised(Event):
    """A condition is firing (``firing=True``) or has cleared (``firing=False``).

    The AlertManager turns these into alerts: ``labels`` identify the alert (and give its
    fingerprint), ``annotations`` carry human-readable context.
    """

    channel: Literal[Channel.ALERT] = Channel.ALERT
    alertname: str
    severity: Severity
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    firing: bool = True
    inhibited_by: str = ""  # a running repair's known side effect explains it: a record only


class AnomalyDetected(Event):
    """A metric point scored above the alert policy's threshold."""

    channel: Literal[Channel.ALERT] = Channel.ALERT
    series: str
    value: float
    score: float
    expected_low: float
    expected_high: float
    detector: str
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    explanation: str = ""
    inhibited_by: str = ""  # a running repair's known side effect explains it: a record only


class ForecastProduced(Event):
    """A forecast for one series was computed and cached."""

    channel: Literal[Channel.PREDICTION] = Channel.PREDICTION
    series: str
    horizon: int
    model: str


class BreachPredicted(Event):
    """A resource series is forecast to cross its limit.

    ``value`` is the series' level on its trend line now; below ``recovered_below`` (that level
    less twice the noise around the line) the growth counts as undone, e.g. by a restart.
    """

    channel: Literal[Channel.PREDICTION] = Channel.PREDICTION
    series: str
    limit: float
    eta: datetime
    probability: float
    labels: dict[str, str] = Field(default_factory=dict)
    value: float | None = None
    recovered_below: float | None = None


class SecurityThreatDetected(Event):
    """Suspicious activity was found in request or auth logs.

    ``source_ip`` is set when the finding is about an address; ``scope``/``value`` name what
    it is about in every case (``ip``, ``user`` or ``api_key``), ``first_seen`` and
    ``event_count`` what the rule counted, ``evidence`` sample lines, ``platform`` the platform
    the counted traffic went to (empty when the log does not say).
    """

    channel: Literal[Channel.SECURITY] = Channel.SECURITY
    kind: str
    source_ip: str
    severity: Severity
    evidence: str = ""
    scope: str = "ip"
    value: str = ""
    first_seen: AwareDatetime | None = None
    event_count: int = 0
    platform: str = ""


class IpBlocked(Event):
    """An address was blocked (``correlation_id``: the finding's)."""

    channel: Literal[Channel.SECURITY] = Channel.SECURITY
    source_ip: str
    until: datetime
    reason: str


class AttackStopped(Event):
    """An address banned for an attack sent nothing for ``quiet_s`` while its ban held: the
    attack is over, not merely refused (``correlation_id``: the ban's)."""

    channel: Literal[Channel.SECURITY] = Channel.SECURITY
    source_ip: str
    banned_at: AwareDatetime
    last_seen: AwareDatetime
    until: datetime
    quiet_s: float


class IncidentDiagnosed(Event):
    """Related anomalies/alerts were grouped into an incident and diagnosed: one revision of
    its typed :class:`~selfheal_ml.lifecycle.Diagnosis`."""

    channel: Literal[Channel.ALERT] = Channel.ALERT
    incident_id: str
    diagnosis: Diagnosis

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms hurt."""
        return self.diagnosis.platforms

    @property
    def root_causes(self) -> tuple[str, ...]:
        """The top candidates' ``cause@component`` labels, best first."""
        return self.diagnosis.root_causes

    @property
    def recommendation(self) -> str | None:
        """The recommended repair strategy."""
        return self.diagnosis.strategy

    @property
    def confidence(self) -> float:
        """How sure the diagnosis is of its top candidate."""
        return self.diagnosis.confidence


class IncidentStatusChanged(Event):
    """An incident moved in its lifecycle (repairing, verifying, recovered, escalated, ...);
    ``reason`` says why in a line a person reads."""

    channel: Literal[Channel.REPAIR] = Channel.REPAIR
    incident_id: str
    status: IncidentStatus
    reason: str = ""


class RepairExecuted(Event):
    """A repair action ran and its outcome was verified; ``approved_by`` names the person who
    approved it when it was high risk (``None``: the guard let it run on its own)."""

    channel: Literal[Channel.REPAIR] = Channel.REPAIR
    incident_id: str
    action: str
    target: str
    outcome: Literal["worked", "did_not_work", "unknown"]
    approved_by: str | None = None


class DisturbanceExpected(Event):
    """A repair ran whose known side effect shows in the metrics
    (:mod:`selfheal_ml.repair.side_effects`): signs of ``metrics`` on ``platforms`` (empty:
    every platform) until ``until`` are the repair's doing, and are inhibited."""

    channel: Literal[Channel.REPAIR] = Channel.REPAIR
    incident_id: str
    strategy: str
    platforms: tuple[str, ...] = ()
    metrics: tuple[str, ...]
    until: AwareDatetime
    description: str = ""


class RepairEscalated(Event):
    """A repair was handed to a human (no safe action, breaker open, approval timed out)."""

    channel: Literal[Channel.REPAIR] = Channel.REPAIR
    incident_id: str
    reason: str


class ModelTrained(Event):
    """A model was trained and logged."""

    channel: Literal[Channel.PREDICTION] = Channel.PREDICTION
    model_name: str
    version: str
    metrics: dict[str, float] = Field(default_factory=dict)


class ModelPromoted(Event):
    """A model version became the champion."""

    channel: Literal[Channel.PREDICTION] = Channel.PREDICTION
    model_name: str
    version: str


class OptimizationFound(Event):
    """The Performance agent found something worth changing.

    ``finding`` is the sentence for a person, ``suggestion`` the recommendation; ``kind``
    (``slow_query``, ``missing_index``, ...) and the located fields (``table``, ``columns``,
    ``index``, ``fingerprint``, ``query``, ``mean_ms``, ``calls``) say where, for machines;
    ``evidence`` holds the measured figures the finding rests on.
    """

    channel: Literal[Channel.OPTIMIZATION] = Channel.OPTIMIZATION
    target: str
    finding: str
    suggestion: str
    impact: str = ""
    kind: str = ""
    table: str | None = None
    columns: tuple[str, ...] | None = None
    index: str | None = None
    fingerprint: str | None = None
    query: str | None = None
    mean_ms: float | None = None
    calls: int | None = None
    evidence: dict[str, float | int | str | None] = Field(default_factory=dict)
