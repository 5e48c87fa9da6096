"""What a repair is known to disturb while it takes effect, and which signs that explains.

Acting has a price: a restart fails the requests in flight, dropping the database's connections
fails every platform's queries for a moment, an emptied cache runs cold, an index build loads
the database. Those signs are *expected*: the system caused them on purpose. An alert or an
anomaly that a running repair's side effect explains (its metric, on a platform the effect
reaches, before the effect is over) is **inhibited**, as Alertmanager's inhibition rules mute
the alerts a known cause explains: it is recorded with the repair that explains it, it notifies
nobody and it opens no incident. A sign that outlasts the window alerts as usual (the Monitor
re-sends a holding condition, and the detectors flag the next point), so a real fault that
starts beside a repair costs at most the window in time to detect.

:data:`KNOWN_SIDE_EFFECTS` lists the effects by repair strategy (the runbook's words, whatever
executor runs them); the window of one effect is its ``duration_s`` plus ``settle_s``, the time
a collection needs to show its end (a rate is measured over the interval before a scrape).

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> book = DisturbanceBook()
>>> book.add(expected_disturbance("reset_db_connections", "i1", "leadsite.ai", t0, settle_s=60))
>>> book.explaining("http_5xx_per_s", "tackle.io", t0 + timedelta(seconds=30)).strategy
'reset_db_connections'
>>> book.explaining("http_5xx_per_s", "tackle.io", t0 + timedelta(seconds=90)) is None
True
>>> book.explaining("host_cpu_percent", "tackle.io", t0 + timedelta(seconds=30)) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.events import AlertRaised, AnomalyDetected, DisturbanceExpected


class Reach(StrEnum):
    """Which platforms an action's side effect reaches."""

    TARGET = "target"  # the platform it ran on
    EVERY_PLATFORM = "every_platform"  # a shared dependency: every platform that uses it


@dataclass(frozen=True)
class SideEffect:
    """What one strategy disturbs (``metrics``), where (``reach``) and for how long."""

    metrics: frozenset[str]
    reach: Reach
    duration_s: float
    description: str


_ERRORS = frozenset({mc.HTTP_5XX_PER_S, mc.HTTP_ERROR_RATIO})
_SLOWER = frozenset(
    {mc.HTTP_LATENCY_P50_MS, mc.HTTP_LATENCY_P95_MS, mc.HTTP_LATENCY_P99_MS, mc.PROBE_LATENCY_MS}
)
#: A cold cache's misses go to the database (seed 7020: after 4 of 12 flushes its load opened
#: incidents of its own, named slow queries or a filling pool, and repaired on a healthy one).
_DATABASE_LOAD = frozenset(
    {
        mc.DB_QUERY_DURATION_MS,
        mc.DB_SLOW_QUERIES,
        mc.DB_SLOW_QUERIES_PER_S,
        mc.DB_CONNECTIONS_IN_USE,
    }
)

#: The side effects of the runbook's strategies, as their runbooks state them. Strategies not
#: listed (a job restart, a rollback, a scale-out, a ban, cleaning temporary files) have none
#: that shows in the metrics we watch.
KNOWN_SIDE_EFFECTS: dict[str, SideEffect] = {
    "restart_service": SideEffect(
        _ERRORS | {mc.PROBE_UP, mc.PROBE_LATENCY_MS}, Reach.TARGET, 30.0,
        "a restart fails the requests in flight and the health probe until the process is up",
    ),
    "reset_db_connections": SideEffect(
        _ERRORS, Reach.EVERY_PLATFORM, 15.0,
        "dropping every database connection fails the queries in flight on every platform",
    ),
    "restore_from_backup": SideEffect(
        _ERRORS | {mc.DB_UP, mc.PROBE_UP}, Reach.EVERY_PLATFORM, 60.0,
        "a restore takes the database away from every platform while it runs",
    ),
    "clear_cache": SideEffect(
        frozenset({mc.CACHE_HIT_RATIO}) | _SLOWER | _DATABASE_LOAD, Reach.EVERY_PLATFORM, 600.0,
        "an emptied cache runs cold until it is filled again: a low hit ratio, and its misses"
        " load the database and slow the requests that read through it",
    ),
    "add_index": SideEffect(
        frozenset({mc.DB_QUERY_DURATION_MS, mc.DB_SLOW_QUERIES, mc.DB_SLOW_QUERIES_PER_S}),
        Reach.EVERY_PLATFORM, 300.0, "an index build loads the database while it runs",
    ),
    "reindex": SideEffect(
        frozenset({mc.DB_QUERY_DURATION_MS, mc.DB_SLOW_QUERIES, mc.DB_SLOW_QUERIES_PER_S}),
        Reach.EVERY_PLATFORM, 300.0, "a reindex loads the database while it runs",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ExpectedDisturbance:
    """One running repair's side effect: ``metrics`` on ``platforms`` (empty: every platform,
    and the shared dependencies' own series) from ``starts_at`` to ``ends_at``."""

    strategy: str
    incident_id: str
    platforms: frozenset[str]
    metrics: frozenset[str]
    starts_at: datetime
    ends_at: datetime
    description: str

    def explains(self, metric: str, platform: str | None, ts: datetime) -> bool:
        """Whether a sign of ``metric`` on ``platform`` at ``ts`` is this effect's doing."""
        if not self.starts_at <= ts <= self.ends_at or metric not in self.metrics:
            return False
        return not self.platforms or platform in self.platforms

    @property
    def reason(self) -> str:
        """A line for the inhibited sign: which repair explains it, and how."""
        return f"{self.strategy} for incident {self.incident_id}: {self.description}"


def expected_disturbance(
    strategy: str, incident_id: str, platform: str | None, now: datetime, settle_s: float
) -> ExpectedDisturbance | None:
    """The disturbance ``strategy`` run now on ``platform`` is known to cause (``None``: no
    known side effect); it lasts the effect's duration plus ``settle_s``."""
    effect = KNOWN_SIDE_EFFECTS.get(strategy)
    if effect is None:
        return None
    platforms: frozenset[str] = frozenset()
    if effect.reach is Reach.TARGET:
        if not platform:
            return None  # a target we cannot name: nothing is inhibited rather than everything
        platforms = frozenset({platform})
    return ExpectedDisturbance(
        strategy, incident_id, platforms, effect.metrics, now,
        now + timedelta(seconds=effect.duration_s + settle_s), effect.description,
    )  # fmt: skip


def announcement(disturbance: ExpectedDisturbance, source: str) -> DisturbanceExpected:
    """The event that tells every agent about ``disturbance``."""
    return DisturbanceExpected(
        ts=disturbance.starts_at, source=source, incident_id=disturbance.incident_id,
        strategy=disturbance.strategy, platforms=tuple(sorted(disturbance.platforms)),
        metrics=tuple(sorted(disturbance.metrics)), until=disturbance.ends_at,
        description=disturbance.description,
    )  # fmt: skip


def from_announcement(event: DisturbanceExpected) -> ExpectedDisturbance:
    """The disturbance an announcement describes."""
    return ExpectedDisturbance(
        event.strategy, event.incident_id, frozenset(event.platforms), frozenset(event.metrics),
        event.ts, event.until, event.description,
    )  # fmt: skip


class DisturbanceBook:
    """The disturbances in force, asked which one explains a sign (ended ones are dropped)."""

    def __init__(self) -> None:
        self.expected: list[ExpectedDisturbance] = []

    def add(self, disturbance: ExpectedDisturbance) -> None:
        self.expected.append(disturbance)

    def note(self, event: DisturbanceExpected) -> None:
        """Keep the disturbance an announcement describes."""
        self.add(from_announcement(event))

    def review_alert(self, event: AlertRaised, since: datetime | None = None) -> AlertRaised:
        """``event`` (a threshold alert; its ``metric`` annotation names what it watches),
        inhibited when it fires and a disturbance in force explains it; a condition holding
        ``since`` before the disturbance began is not its doing (its resends stay plain)."""
        metric = event.annotations.get("metric")
        if not event.firing or not self.expected or metric is None:
            return event
        found = self.explaining(metric, event.labels.get("platform"), event.ts)
        if found is None or (since is not None and since < found.starts_at):
            return event
        return event.model_copy(update={"inhibited_by": found.reason})

    def review_anomaly(self, event: AnomalyDetected) -> AnomalyDetected:
        """``event``, inhibited (and held as ``info``) when a disturbance in force explains it."""
        if not self.expected or event.severity == "info":
            return event
        metric = event.series.split("{", 1)[0]
        found = self.explaining(metric, event.labels.get("platform"), event.ts)
        if found is None:
            return event
        return event.model_copy(update={"inhibited_by": found.reason, "severity": "info"})

    def explaining(
        self, metric: str, platform: str | None, ts: datetime
    ) -> ExpectedDisturbance | None:
        """The disturbance that explains a sign of ``metric`` on ``platform`` at ``ts``."""
        if not self.expected:
            return None
        self.expected = [d for d in self.expected if d.ends_at >= ts]
        for disturbance in self.expected:
            if disturbance.explains(metric, platform, ts):
                return disturbance
        return None
