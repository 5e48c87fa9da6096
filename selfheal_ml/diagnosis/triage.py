"""Triage: which open incidents are ready for a diagnosis, and which belong together.

Pure decisions over :class:`~selfheal_ml.diagnosis.grouping.OpenIncident` s that the
Diagnostic agent takes on each health tick:

- :func:`qualifies`: corroborated evidence only: a threshold alert, a breach prediction,
  anomalies on at least ``min_series`` series, or one anomaly that *persists*
  (:func:`still_outside`: its series stays outside the expected range on ``confirm_checks``
  consecutive collections, by half the range's width at least);
- :func:`common_cause_group`: platforms whose requests suffer at the same time share a cause
  until shown otherwise (their undiagnosed incidents become one);
- :func:`awaits_shared_evidence`: before the first diagnosis, wait a few checks for the
  evidence that tells a shared cause from a local one.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.diagnosis.observations import Observation
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> lone = Observation(t0, "host_disk_percent", "disk", "a.io", 9.0, "anomaly",
...                    expected_low=40.0, expected_high=50.0)
>>> still_outside(lone, 58.0), still_outside(lone, 52.0)
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from selfheal_ml.diagnosis.grouping import OpenIncident
from selfheal_ml.diagnosis.observations import Observation

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
    return persisting_checks >= policy.confirm_checks


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


def awaits_shared_evidence(incident: OpenIncident, checks_waited: int, limit: int) -> bool:
    """Whether to wait another check before the first diagnosis: several platforms hurt and
    no shared dependency seen yet, or a loaded database hurting at most one platform (its
    cause may be that platform's traffic, whose own anomalies can arrive later)."""
    if incident.diagnosed_at is not None or checks_waited > limit:
        return False
    observations = incident.observations
    platforms = {o.platform for o in observations if o.metric in REQUEST_SYMPTOMS}
    dependencies = [o for o in observations if o.dependency is not None]
    if len(platforms) >= 2 and not dependencies:
        return True
    load_only = bool(dependencies) and all(
        o.metric in LOAD_METRICS and o.score > 0 for o in dependencies
    )
    return load_only and len(platforms) <= 1
