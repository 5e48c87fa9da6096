"""Triage: which open incidents are ready for a diagnosis, and which belong together.

Pure decisions over :class:`~selfheal_ml.diagnosis.grouping.OpenIncident` s that the
Diagnostic agent takes on each health tick:

- :func:`qualifies`: corroborated evidence only: a threshold alert, a breach prediction,
  anomalies on at least ``min_series`` series, or one anomaly that *persists*
  (:func:`still_outside`: its series stays outside the expected range on ``confirm_checks``
  consecutive collections, by half the range's width at least; one collection for a guarded
  level, :data:`~selfheal_ml.metric_catalogue.GUARDED_LEVELS`, whose anomaly already is a
  move in the bad direction larger than the metric's smallest bad move);
- :func:`common_cause_group`: platforms whose requests suffer at the same time share a cause
  until shown otherwise (their undiagnosed incidents become one);
- :func:`awaits_shared_evidence`: before the first diagnosis, wait a few checks for the
  evidence that tells a shared cause from a local one;
- :func:`awaits_cause_evidence`: likewise while one platform's requests fail or slow down and
  nothing yet says why (traffic, memory, an idle CPU, a dependency, a recent change);
- :class:`Readiness` keeps the counts these decisions read (collections a lone anomaly
  persisted, checks waited) and answers whether an incident is ready now.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.diagnosis.observations import Observation
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> lone = Observation(t0, "host_disk_percent", "disk", "a.io", 9.0, "anomaly",
...                    expected_low=40.0, expected_high=50.0)
>>> still_outside(lone, 58.0), still_outside(lone, 52.0)
(True, False)
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from selfheal_ml.diagnosis.grouping import OpenIncident
from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.events import MetricPoint
from selfheal_ml.metric_catalogue import GUARDED_LEVELS

#: A lone anomaly persists when its series stays beyond its expected range by at least this
#: share of the range's width (noise hovering at the edge of a narrow band does not).
PERSISTENCE_MARGIN = 0.5
#: A database's load signals: a busy platform can cause them as well as a database fault.
LOAD_METRICS = frozenset(
    {"db_connections_in_use", "db_query_duration_ms", "db_slow_queries_per_s", "db_slow_queries"}
)
#: Request symptoms (what a shared dependency's fault does to every platform using it).
REQUEST_SYMPTOMS = frozenset(
    {"http_latency_p95_ms", "http_latency_p99_ms", "http_error_ratio", "http_5xx_per_s"}
)
#: What any fault does to requests and to what users get done: it says that they suffer, not
#: why (a fault's failed orders and sign-ups move the business events too).
EFFECTS_ONLY = REQUEST_SYMPTOMS | {
    "http_latency_p50_ms", "probe_latency_ms", "business_events_per_min"
}  # fmt: skip
#: A sign of the cause precedes the failures it explains by at most this long: an older one in
#: the same incident (a night's wandering business events, a CPU blip) names nothing new.
CAUSE_LEAD_S = 600.0


@dataclass(frozen=True)
class TriagePolicy:
    """The numbers of triage (seconds and counts)."""

    settle_s: float = 60.0
    window_s: float = 900.0
    quiet_s: float = 1800.0
    min_series: int = 2
    confirm_checks: int = 3
    max_settle_checks: int = 3

    @classmethod
    def of(cls, numbers: Mapping[str, float]) -> TriagePolicy:
        """From the ``diagnosis`` numbers of the agent's context (unknown names refused)."""
        unknown = set(numbers) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"diagnosis: unknown numbers {sorted(unknown)}")
        defaults = cls()
        return cls(
            **{name: type(getattr(defaults, name))(value) for name, value in numbers.items()}
        )


def lone_anomaly(incident: OpenIncident) -> Observation | None:
    """The anomaly of an undiagnosed incident that has only one series, if it has a range."""
    if incident.diagnosed_at is not None:
        return None
    if len({o.series for o in incident.observations}) != 1:
        return None
    lone = incident.observations[-1]
    return lone if lone.source == "anomaly" and lone.expected_low is not None else None


def still_outside(lone: Observation, value: float) -> bool:
    """Whether ``value`` is beyond the lone anomaly's range by the persistence margin."""
    low, high = lone.expected_low, lone.expected_high
    if low is None or high is None:
        return False
    margin = PERSISTENCE_MARGIN * max(high - low, 0.0)
    return not low - margin <= value <= high + margin


def qualifies(incident: OpenIncident, policy: TriagePolicy, persisting_checks: int) -> bool:
    """Whether the evidence is corroborated enough to diagnose (see the module doc)."""
    observations = incident.observations
    if any(o.source in ("alert", "forecast") for o in observations):
        return True
    if len({o.series for o in observations}) >= policy.min_series:
        return True
    # a guarded level's anomaly is a large move in the known bad direction (a stuck cache's hit
    # ratio): one more collection outside confirms it, where noise on a learnt range needs three
    needed = 1 if observations and observations[-1].metric in GUARDED_LEVELS else None
    return persisting_checks >= (needed or policy.confirm_checks)


def common_cause_group(incidents: Iterable[OpenIncident]) -> list[OpenIncident]:
    """The undiagnosed platform incidents with request symptoms, when they span two or more
    distinct component sets (else an empty list: nothing to merge)."""
    hurting = [
        incident
        for incident in incidents
        if incident.diagnosed_at is None
        and all(o.dependency is None for o in incident.observations)
        and any(o.metric in REQUEST_SYMPTOMS and o.score > 0 for o in incident.observations)
    ]
    if len({frozenset(incident.components) for incident in hurting}) >= 2:
        return hurting
    return []


def _recent(incident: OpenIncident) -> list[Observation]:
    """The incident's observations of the last :data:`CAUSE_LEAD_S` (before its last one)."""
    since = incident.last_seen - timedelta(seconds=CAUSE_LEAD_S)
    return [o for o in incident.observations if o.ts >= since]


def awaits_shared_evidence(incident: OpenIncident, checks_waited: int, limit: int) -> bool:
    """Whether to wait another check before the first diagnosis: several platforms hurt and
    no shared dependency seen yet, or a loaded database hurting at most one platform (its
    cause may be that platform's traffic, whose own anomalies can arrive later). Only the
    observations of the last :data:`CAUSE_LEAD_S` count, as for :func:`awaits_cause_evidence`."""
    if incident.diagnosed_at is not None or checks_waited > limit:
        return False
    observations = _recent(incident)
    platforms = {o.platform for o in observations if o.metric in REQUEST_SYMPTOMS}
    dependencies = [o for o in observations if o.dependency is not None]
    if len(platforms) >= 2 and not dependencies:
        return True
    load_only = bool(dependencies) and all(
        o.metric in LOAD_METRICS and o.score > 0 for o in dependencies
    )
    return load_only and len(platforms) <= 1


def awaits_cause_evidence(
    incident: OpenIncident, checks_waited: int, limit: int, recently_changed: Container[str]
) -> bool:
    """Whether to wait another check before the first diagnosis because the only evidence is
    failing or slow requests on (at most) one platform with no recent configuration change.
    Only the observations of the last :data:`CAUSE_LEAD_S` count: fresh failures that joined
    an older undiagnosed incident still wait for a sign of their own cause.

    Every platform fault fails requests first; what names it (the traffic of a surge, the
    memory of a leak, the idle CPU of a crash) is a resource series scored a check or two
    later. Diagnosed on the errors alone, a surge was called a crash and restarted (the
    development seed's surge-only run: 20 of 37 repairs were restarts that did not work).
    """
    if incident.diagnosed_at is not None or checks_waited > limit:
        return False
    observations = _recent(incident)
    platforms = {o.platform for o in observations}
    if len(platforms) > 1 or any(platform in recently_changed for platform in platforms):
        return False
    return all(o.metric in EFFECTS_ONLY and o.dependency is None for o in observations)


class Readiness:
    """Whether an open incident is ready for a (new) diagnosis, with the counts that decide it.

    ``persisting``: incident id -> consecutive collections its lone anomaly's series stayed out
    of range (:func:`still_outside`); ``waited``: incident id -> health checks waited for
    shared or cause evidence before the first diagnosis.

    An examination that explained nothing (no known signature: no diagnosis) leaves the
    incident undiagnosed and open; evidence that joins it later gets a wait of its own,
    counted from the first check that sees it (``counted_since``: the examination it follows).
    Without that, a fault joining noise that had already waited its checks was diagnosed on
    its first failures (dev seed 7014, 01-07 17:18: two platforms' latency blips at 16:49 and
    16:53 were merged and examined; a pool exhaustion's 5xx on all five platforms joined them
    28 minutes later, was diagnosed at the next check as one platform's crash, and that
    healthy platform was restarted a minute before the pool's own anomaly arrived).
    """

    def __init__(self, policy: TriagePolicy) -> None:
        self.policy = policy
        self.persisting: dict[str, int] = {}
        self.waited: dict[str, int] = {}
        self.counted_since: dict[str, datetime] = {}

    def observe(self, incidents: Iterable[OpenIncident], points: Iterable[MetricPoint]) -> None:
        """Count, for each lone-anomaly incident, how long its series stays out of range."""
        watched = {
            lone.series: (incident.incident_id, lone)
            for incident in incidents
            if (lone := lone_anomaly(incident)) is not None
        }
        for point in points if watched else ():
            if (found := watched.get(point.series)) is not None:
                incident_id, lone = found
                outside = still_outside(lone, point.value)
                self.persisting[incident_id] = (
                    self.persisting.get(incident_id, 0) + 1 if outside else 0
                )

    def ready(
        self, incident: OpenIncident, now: datetime, recently_changed: Container[str] = ()
    ) -> bool:
        """Settled, corroborated, not waiting for shared or cause evidence, and something new
        (a check: before the first diagnosis it counts as one more check waited).
        ``recently_changed``: platforms with a configuration change in the last 30 minutes."""
        settled = now >= incident.opened_at + timedelta(seconds=self.policy.settle_s)
        persisting = self.persisting.get(incident.incident_id, 0)
        if not settled or not qualifies(incident, self.policy, persisting):
            return False
        if incident.diagnosed_at is None:
            key = incident.incident_id
            examined = incident.examined_at
            if (
                examined is not None
                and incident.last_seen > examined  # new evidence after an unexplained look
                and self.counted_since.get(key) != examined
            ):
                self.counted_since[key] = examined
                self.waited[key] = 0
            waited = self.waited[key] = self.waited.get(key, 0) + 1
            limit = self.policy.max_settle_checks
            if awaits_shared_evidence(incident, waited, limit) or awaits_cause_evidence(
                incident, waited, limit, recently_changed
            ):
                return False
        return incident.examined_at is None or incident.last_seen > incident.examined_at

    def forget(self, open_ids: Container[str]) -> None:
        """Drop the counts of incidents no longer open (closed, or merged into another)."""
        books: tuple[dict[str, int] | dict[str, datetime], ...] = (
            self.persisting, self.waited, self.counted_since,
        )  # fmt: skip
        for book in books:
            for incident_id in [key for key in book if key not in open_ids]:
                del book[incident_id]
