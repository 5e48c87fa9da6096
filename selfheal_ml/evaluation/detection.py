"""Detection timing against ground truth: which injected faults were detected, and when.

An alert counts as detecting a fault when it fires while the fault is in effect (from its
injection to its resolution, plus a short grace) on a platform the fault affects; an alert
without a platform label (a shared dependency such as the database) counts for a fault that
was injected on the dependency itself, or for one whose ground truth says it moves that
dependency's series (``Fault.dependencies``: a traffic surge's requests reach the shared
database too). Alerts that match no fault are false alarms.

>>> from datetime import datetime, timedelta, UTC
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> fault = Fault("f1", "service_crash", "a", ("a",), t0, t0 + timedelta(minutes=5), "restart")
>>> alerts = [Observation(t0 + timedelta(seconds=30), "TargetDown", {"platform": "a"}),
...           Observation(t0 + timedelta(hours=2), "HighCpu", {"platform": "b"})]
>>> report = match_detections([fault], alerts)
>>> report.outcomes[0].time_to_detect_s, report.false_alarms
(30.0, 1)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the inclusive method on whole percents; ``None`` if empty.

    >>> percentile([10.0, 20.0, 30.0], 0.5), percentile([], 0.5)
    (20.0, None)
    """
    ordered = sorted(values)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    cut_points = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut_points[min(98, max(0, round(q * 100) - 1))]


@dataclass(frozen=True)
class Fault:
    """Ground truth about one injected fault (the fields the simulator's records have)."""

    fault_id: str
    kind: str
    platform: str | None
    platforms: tuple[str, ...]
    injected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    dependencies: tuple[str, ...] = ()  # shared dependencies whose series it moves


@dataclass(frozen=True)
class Observation:
    """One alert as it fired."""

    ts: datetime
    alertname: str
    labels: dict[str, str]


@dataclass(frozen=True)
class FaultOutcome:
    """What happened to one fault."""

    fault_id: str
    kind: str
    platform: str | None
    injected_at: datetime
    detected_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    detected_by: str | None

    @property
    def time_to_detect_s(self) -> float | None:
        if self.detected_at is None:
            return None
        return (self.detected_at - self.injected_at).total_seconds()


@dataclass(frozen=True)
class DetectionReport:
    """Per-fault outcomes plus the alerts that matched nothing (``unmatched``, in time order:
    what an operator would have been woken for with no fault behind it)."""

    outcomes: list[FaultOutcome]
    false_alarms: int
    unmatched: tuple[Observation, ...] = ()

    @property
    def detection_rate(self) -> float | None:
        if not self.outcomes:
            return None
        return sum(o.detected_at is not None for o in self.outcomes) / len(self.outcomes)

    def time_to_detect_quantile(self, quantile: float) -> float | None:
        """A quantile (0..1) of time to detect over detected faults, in seconds."""
        return percentile([t for o in self.outcomes if (t := o.time_to_detect_s) is not None],
                          quantile)  # fmt: skip


def _matches(fault: Fault, alert: Observation, end: datetime) -> bool:
    if not fault.injected_at <= alert.ts <= end:
        return False
    platform = alert.labels.get("platform")
    if platform is None:
        return fault.platform is None or alert.labels.get("dependency") in fault.dependencies
    return platform in fault.platforms


def match_detections(
    faults: Sequence[Fault],
    alerts: Sequence[Observation],
    *,
    grace_s: float = 120.0,
    run_end: datetime | None = None,
) -> DetectionReport:
    """Match alerts to faults: earliest matching alert per fault; the rest are false alarms."""
    ordered = sorted(alerts, key=lambda alert: alert.ts)
    matched: set[int] = set()
    outcomes: list[FaultOutcome] = []
    for fault in faults:
        until = (
            fault.resolved_at or run_end or datetime.max.replace(tzinfo=fault.injected_at.tzinfo)
        )
        end = until + timedelta(seconds=grace_s) if until.year < 9999 else until
        hits = [index for index, alert in enumerate(ordered) if _matches(fault, alert, end)]
        matched.update(hits)
        first = ordered[hits[0]] if hits else None
        outcomes.append(
            FaultOutcome(
                fault_id=fault.fault_id,
                kind=fault.kind,
                platform=fault.platform,
                injected_at=fault.injected_at,
                detected_at=first.ts if first else None,
                resolved_at=fault.resolved_at,
                resolved_by=fault.resolved_by,
                detected_by=first.alertname if first else None,
            )
        )
    unmatched = tuple(alert for index, alert in enumerate(ordered) if index not in matched)
    return DetectionReport(outcomes=outcomes, false_alarms=len(unmatched), unmatched=unmatched)
