"""The seed's threshold alerts, evaluated on one round of metric points.

Each rule reads series by canonical metric name (:mod:`selfheal_ml.metric_catalogue`, which
the simulator and the collectors produce) and compares it with a limit from the catalogue's
:class:`ThresholdLimits`, yielding a :class:`Finding` with Alertmanager-style labels. Rules are
data, not code paths, so adding one is one line in :data:`RULES`.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.events import MetricPoint
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> point = MetricPoint(series='db_up{dependency="postgres"}', ts=now, value=0.0,
...                     labels={"dependency": "postgres"})
>>> [finding.alertname for finding in evaluate_thresholds([point], ThresholdLimits())]
['DatabaseConnectionFailure']
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.events import MetricPoint, Severity, new_id
from selfheal_ml.metric_catalogue import ThresholdLimits

Comparison = Callable[[float, float], bool]


@dataclass(frozen=True)
class Finding:
    """One condition that holds now, identified by its labels."""

    alertname: str
    severity: Severity
    labels: dict[str, str]
    summary: str
    value: float
    impact: str = "degraded"  # or "down": how it weighs in the platform health roll-up
    metric: str = ""  # the metric the rule read (the alert's ``metric`` annotation)

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted({"alertname": self.alertname, **self.labels}.items()))


@dataclass(frozen=True)
class Rule:
    """``metric`` compared with a limit; the limit is read from :class:`ThresholdLimits`."""

    alertname: str
    metric: str
    severity: Severity
    compare: Comparison
    limit: Callable[[ThresholdLimits], float]
    summary: str
    impact: str = "degraded"
    only_labels: dict[str, str] = field(default_factory=dict)
    down_at: float | None = None  # a value at or past this makes the impact "down"


RULES: tuple[Rule, ...] = (
    Rule("HighResponseTime", mc.HTTP_LATENCY_P95_MS, "warning", operator.gt,
         lambda t: t.response_time_ms, "p95 response time {value:.0f} ms > {limit:.0f} ms"),
    Rule("HighResponseTime", mc.PROBE_LATENCY_MS, "warning", operator.gt,
         lambda t: t.response_time_ms, "probe latency {value:.0f} ms > {limit:.0f} ms"),
    Rule("HighErrorRate", mc.HTTP_ERROR_RATIO, "critical", operator.gt,
         lambda t: t.error_rate, "5xx error rate {value:.1%} > {limit:.0%}",
         only_labels={"status_class": "5xx"}, down_at=mc.DEFAULT_LIMITS.down_error_rate),
    Rule("ServerErrors", mc.HTTP_5XX_PER_S, "warning", operator.gt,
         lambda t: 0.0, "{value:.2f} server errors (5xx) per second"),
    Rule("DatabaseConnectionFailure", mc.DB_UP, "critical", operator.lt,
         lambda t: 1.0, "database connection failed", impact="down"),
    Rule("DatabaseConnectionsExhausted", mc.DB_CONNECTIONS_EXHAUSTED, "critical", operator.gt,
         lambda t: 0.0, "database refused a connection: no connection slot left"),
    Rule("CacheUnreachable", mc.CACHE_UP, "critical", operator.lt,
         lambda t: 1.0, "cache connection failed"),
    Rule("TargetDown", mc.PROBE_UP, "critical", operator.lt,
         lambda t: 1.0, "target not answering its health probe", impact="down"),
    Rule("HighCpu", mc.HOST_CPU_PERCENT, "warning", operator.gt,
         lambda t: t.cpu_percent, "CPU {value:.0f} % > {limit:.0f} %"),
    Rule("HighMemory", mc.HOST_MEMORY_PERCENT, "warning", operator.gt,
         lambda t: t.memory_percent, "memory {value:.0f} % > {limit:.0f} %"),
    Rule("HighDisk", mc.HOST_DISK_PERCENT, "warning", operator.gt,
         lambda t: t.disk_percent, "disk {value:.0f} % > {limit:.0f} %"),
    # the PostgreSQL collector counts the queries running past its target's slow_query_ms
    Rule("SlowQueries", mc.DB_SLOW_QUERIES, "warning", operator.gt,
         lambda t: 0.0, "{value:.0f} database queries running longer than the slow-query limit"),
    # an exporter's rate of slow queries (a healthy database has next to none)
    Rule("SlowQueries", mc.DB_SLOW_QUERIES_PER_S, "warning", operator.gt,
         lambda t: t.slow_queries_per_s, "{value:.2f} slow queries per second > {limit:.2f}"),
)  # fmt: skip


def _name(point: MetricPoint) -> str:
    return point.series.split("{", 1)[0]


def _apply(rule: Rule, point: MetricPoint, limits: ThresholdLimits) -> Finding | None:
    if any(point.labels.get(key) != value for key, value in rule.only_labels.items()):
        return None
    limit = rule.limit(limits)
    if not rule.compare(point.value, limit):
        return None
    labels = {key: value for key, value in point.labels.items() if key != "status_class"}
    return Finding(
        alertname=rule.alertname,
        severity=rule.severity,
        labels=labels,
        summary=rule.summary.format(value=point.value, limit=limit),
        value=point.value,
        impact="down" if rule.down_at is not None and point.value >= rule.down_at else rule.impact,
        metric=rule.metric,
    )


def _auth_spikes(points: Iterable[MetricPoint], limits: ThresholdLimits) -> list[Finding]:
    attempts: dict[str, float] = {}
    failures: dict[str, float] = {}
    for point in points:
        platform = point.labels.get("platform", "")
        if _name(point) == mc.AUTH_ATTEMPTS_PER_S:
            attempts[platform] = attempts.get(platform, 0.0) + point.value
        elif _name(point) == mc.AUTH_FAILURES_PER_S:
            failures[platform] = failures.get(platform, 0.0) + point.value
    findings = []
    for platform, failed in failures.items():
        ratio = failed / attempts[platform] if attempts.get(platform) else 1.0
        if failed >= limits.auth_failures_per_s and ratio > limits.auth_failure_ratio:
            findings.append(
                Finding(
                    alertname="AuthFailureSpike",
                    severity="warning",
                    labels={"platform": platform},
                    summary=f"{failed:.1f} login failures/s ({ratio:.0%} of attempts)",
                    value=failed,
                    metric=mc.AUTH_FAILURES_PER_S,
                )
            )
    return findings


#: Connections in use at or above this share of the server's maximum: the pool is exhausted.
CONNECTION_SATURATION = 0.9
#: At or above this share, a warning: most of the pool is held (the community Prometheus rule
#: ``PostgresqlTooManyConnections`` warns at 80 % of ``max_connections``). A leak that holds
#: three quarters of the slots already fails the requests that wait for one, before 90 %.
CONNECTION_WARNING = 0.8


def _connection_saturation(points: Iterable[MetricPoint]) -> list[Finding]:
    """``DatabaseConnectionsExhausted`` (critical) where ``db_connections_in_use`` reaches
    :data:`CONNECTION_SATURATION` of ``db_connections_max`` for the same labels, and
    ``DatabaseConnectionsHigh`` (warning) from :data:`CONNECTION_WARNING` (what Prometheus
    rules on ``pg_stat_activity`` against ``max_connections`` alert on).

    >>> from datetime import UTC, datetime
    >>> t, labels = datetime(2026, 1, 5, tzinfo=UTC), {"dependency": "postgres"}
    >>> found = _connection_saturation([
    ...     MetricPoint(series="db_connections_in_use", ts=t, value=95.0, labels=labels),
    ...     MetricPoint(series="db_connections_max", ts=t, value=100.0, labels=labels)])
    >>> [(f.alertname, f.severity, f.value) for f in found]
    [('DatabaseConnectionsExhausted', 'critical', 95.0)]
    >>> [(f.alertname, f.severity) for f in _connection_saturation([
    ...     MetricPoint(series="db_connections_in_use", ts=t, value=81.0, labels=labels),
    ...     MetricPoint(series="db_connections_max", ts=t, value=100.0, labels=labels)])]
    [('DatabaseConnectionsHigh', 'warning')]
    """
    in_use: dict[tuple[tuple[str, str], ...], tuple[float, dict[str, str]]] = {}
    maximum: dict[tuple[tuple[str, str], ...], float] = {}
    for point in points:
        key = tuple(sorted(point.labels.items()))
        if _name(point) == mc.DB_CONNECTIONS_IN_USE:
            in_use[key] = (point.value, dict(point.labels))
        elif _name(point) == mc.DB_CONNECTIONS_MAX:
            maximum[key] = point.value
    findings = []
    for key, (used, labels) in in_use.items():
        limit = maximum.get(key)
        if not limit or used < CONNECTION_WARNING * limit:
            continue
        exhausted = used >= CONNECTION_SATURATION * limit
        findings.append(
            Finding(
                alertname="DatabaseConnectionsExhausted"
                if exhausted
                else "DatabaseConnectionsHigh",
                severity="critical" if exhausted else "warning",
                labels=labels,
                summary=f"{used:.0f} of {limit:.0f} database connections in use",
                value=used,
                metric=mc.DB_CONNECTIONS_IN_USE,
            )
        )
    return findings


def metrics_read() -> frozenset[str]:
    """Every metric name the rules here read (the simple rules and the paired ones).

    >>> sorted(metrics_read())[:2]
    ['auth_attempts_per_s', 'auth_failures_per_s']
    """
    paired = {mc.AUTH_ATTEMPTS_PER_S, mc.AUTH_FAILURES_PER_S}
    paired |= {mc.DB_CONNECTIONS_IN_USE, mc.DB_CONNECTIONS_MAX}
    return frozenset({rule.metric for rule in RULES} | paired)


def evaluate_thresholds(points: Iterable[MetricPoint], limits: ThresholdLimits) -> list[Finding]:
    """Every threshold condition that holds in this round of points."""
    points = list(points)
    rules_by_metric: dict[str, list[Rule]] = {}
    for rule in RULES:
        rules_by_metric.setdefault(rule.metric, []).append(rule)
    findings: list[Finding] = []
    for point in points:
        for rule in rules_by_metric.get(_name(point), []):
            finding = _apply(rule, point, limits)
            if finding is not None:
                findings.append(finding)
    return findings + _auth_spikes(points, limits) + _connection_saturation(points)


@dataclass
class Tracked:
    """A finding that holds, with when it started, when it was last sent, and its incident id.

    ``first`` is the finding as it was when the condition started: resends describe the alert
    with it, so a value that wobbles while the condition holds does not rewrite the alert.
    """

    finding: Finding
    since: datetime
    last_sent: datetime
    correlation_id: str
    first: Finding | None = None

    def __post_init__(self) -> None:
        if self.first is None:
            self.first = self.finding


@dataclass(frozen=True)
class Changes:
    """One round's changes: new findings, ones due for a resend, ones that cleared."""

    started: list[Tracked]
    resent: list[Tracked]
    cleared: list[Tracked]
    holding: list[Finding]


class ThresholdTracker:
    """Remembers what holds, to report what started, what to resend and what cleared.

    A finding that keeps holding is resent every ``resend_s`` (like Prometheus' resend delay),
    so the AlertManager keeps it alive without being told the same thing every round; it keeps
    one correlation id from start to clear.

    >>> from datetime import datetime, timedelta, UTC
    >>> now = datetime(2026, 1, 5, tzinfo=UTC)
    >>> tracker = ThresholdTracker(resend_s=60)
    >>> finding = Finding("HighCpu", "warning", {"host": "a"}, "CPU 90 %", 90.0)
    >>> changes = tracker.update([finding], now)
    >>> len(changes.started), len(changes.resent), len(changes.cleared)
    (1, 0, 0)
    >>> len(tracker.update([finding], now + timedelta(seconds=30)).resent)
    0
    >>> len(tracker.update([finding], now + timedelta(seconds=60)).resent)
    1
    >>> [t.finding.alertname for t in tracker.update([], now + timedelta(seconds=90)).cleared]
    ['HighCpu']
    """

    def __init__(self, resend_s: float = 60.0) -> None:
        self.resend_s = resend_s
        self.firing: dict[tuple[tuple[str, str], ...], Tracked] = {}

    def update(self, findings: Iterable[Finding], now: datetime) -> Changes:
        """Compare this round's findings with the last ones."""
        current = {finding.key: finding for finding in findings}
        cleared = [tracked for key, tracked in self.firing.items() if key not in current]
        started: list[Tracked] = []
        resent: list[Tracked] = []
        resend_after = timedelta(seconds=self.resend_s)
        for key, finding in current.items():
            tracked = self.firing.get(key)
            if tracked is None:
                tracked = Tracked(finding, since=now, last_sent=now, correlation_id=new_id())
                self.firing[key] = tracked
                started.append(tracked)
                continue
            tracked.finding = finding
            if now - tracked.last_sent >= resend_after:
                tracked.last_sent = now
                resent.append(tracked)
        for tracked in cleared:
            del self.firing[tracked.finding.key]
        return Changes(started, resent, cleared, list(current.values()))
