"""Alert policy: turn calibrated scores into alert decisions (Merlion's alarm aggregation).

A point is a *hit* when its calibrated score reaches ``threshold``. The policy fires on a hit
when at least ``min_hits`` hits (this one included) fall within the last ``window_s`` seconds,
then stays quiet for ``suppress_s`` seconds whatever the scores do, so one incident raises one
alert.

>>> policy = AlertPolicy(threshold=4.0, min_hits=2, window_s=120.0, suppress_s=600.0)
>>> [policy.update(ts_s, score) for ts_s, score in [(0, 5.0), (60, 5.0), (120, 9.0), (900, 6.0)]]
[False, True, False, False]
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.events import AnomalyDetected
from selfheal_ml.lifecycle import Severity

DEFAULT_THRESHOLD = 8.0
"""An alert needs evidence as strong as a new record (``NewExtreme.base_score``); see the model
card for how this was set and what it costs in false alarms."""

WARNING_SCORE = 12.0
"""The calibrated score from which a flagged point of a per-request series (latency quantiles,
error ratios and rates of each endpoint, probe latency) is a ``warning`` (an alert a person
sees); below it, down to :data:`DEFAULT_THRESHOLD`, it is ``info``: recorded, shown by
``/v1/anomalies`` and weighed by the Diagnostic agent as evidence, but not alerted on its own
(Elastic ML's split between anomaly records and the alerts rules raise from their severity).
Those series are many and noisy: on the chaos benchmark's development seed (1001) most of the
anomalies that matched no fault were theirs, scored just above 8. The slow resource series
(memory, disk, queues, cache) alert from :data:`DEFAULT_THRESHOLD`: a leak or a filling disk
often shows nowhere else before its fault ends (held-out seeds 4001/4002 lost most of their
memory-leak detections when every series needed 12; docs/benchmarks.md, issue 12). Counts of
user activity (logins, business events) and resources that follow the traffic (CPU, database
connections in use) alert from here too
(:data:`selfheal_ml.metric_catalogue.ALERT_FROM_WARNING_SCORE`)."""


def anomaly_severity(
    calibrated: float, per_request: bool = True, inside_expected: bool = False
) -> Severity:
    """``warning`` from :data:`WARNING_SCORE` up (from :data:`DEFAULT_THRESHOLD` for a series
    that is not ``per_request``), ``info`` below.

    A point whose value lies ``inside_expected`` (its own expected range: a component flagged
    its shape, not its level) needs :data:`WARNING_SCORE` on any series: the Diagnostic agent
    reads such a point as no symptom (it says nothing about which way the metric moved), and
    Datadog's anomaly monitors likewise alert only outside their band. On the chaos benchmark's
    development seed at the 30 s interval, 34 of the 96 signs that matched no fault were these:
    night-time business-event and login-attempt counts scored 8-9.7 by the adaptive-resonance
    component, on several platforms at once, their values inside the expected range.

    >>> anomaly_severity(8.5), anomaly_severity(40.0), anomaly_severity(8.5, per_request=False)
    ('info', 'warning', 'warning')
    >>> anomaly_severity(8.5, per_request=False, inside_expected=True)
    'info'
    """
    floor = WARNING_SCORE if per_request or inside_expected else DEFAULT_THRESHOLD
    return "warning" if calibrated >= floor else "info"


class AlertPolicy:
    """Threshold, minimum hits inside a time window, then suppression after firing."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        min_hits: int = 1,
        window_s: float = 300.0,
        suppress_s: float = 1800.0,
    ) -> None:
        if not math.isfinite(threshold) or threshold <= 0:
            raise ValueError(f"threshold: expected a finite number > 0, got {threshold}")
        if min_hits < 1:
            raise ValueError(f"min_hits: expected >= 1, got {min_hits}")
        if window_s < 0 or suppress_s < 0:
            raise ValueError(f"window_s, suppress_s: expected >= 0, got {window_s}, {suppress_s}")
        self.threshold = threshold
        self.min_hits = min_hits
        self.window_s = window_s
        self.suppress_s = suppress_s
        self._hits: deque[float] = deque()
        self._quiet_until = -math.inf

    def is_hit(self, score: float) -> bool:
        """Whether one score reaches the threshold."""
        return score >= self.threshold

    def update(self, ts_s: float, score: float) -> bool:
        """Record one point (epoch seconds, calibrated score); True when an alert fires now."""
        hits = self._hits
        while hits and hits[0] < ts_s - self.window_s:
            hits.popleft()
        if score < self.threshold:
            return False
        hits.append(ts_s)
        if len(hits) < self.min_hits or ts_s < self._quiet_until:
            return False
        self._quiet_until = ts_s + self.suppress_s
        hits.clear()
        return True


CORROBORATION_WINDOW_S = 120.0
"""How far back a flagged point of the same series corroborates a warning (four collections
at the product's 30 s interval)."""
STRONG_SCORE = 50.0
"""A calibrated score from which a warning of a per-request series needs no second point."""


@dataclass
class Corroboration:
    """A warning on a per-request, user-activity or load-following series
    (:data:`~selfheal_ml.metric_catalogue.ALERT_FROM_WARNING_SCORE`) needs a second opinion:
    it stays a warning when the same series was also flagged within ``window_s`` before it,
    when another such series of the same platform is flagged in the same round (a shared
    cause: several endpoints at once), or when its score reaches ``strong_score``. Otherwise
    it is held as ``info`` (recorded, and still evidence for the Diagnostic agent); a flagged
    point of the same series outside its expected range within ``window_s`` after it then
    raises the warning. Prometheus rules say this with ``for:``, Merlion with its alarm
    aggregation (:class:`AlertPolicy`'s ``min_hits``), and the Diagnostic agent's triage
    asks the same of a lone anomaly before it opens an incident. On the chaos benchmark's
    development seeds (1001, 1002: 3 days) every anomaly of these series that matched no
    fault was a single point, with no other flagged point on its series within 300 s, while a
    fault's requests are flagged round after round.

    >>> from datetime import UTC, timedelta
    >>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def flagged(seconds, score, value=300.0, series="http_latency_p99_ms{platform='a'}"):
    ...     return AnomalyDetected(ts=t0 + timedelta(seconds=seconds), source="P", series=series,
    ...         value=value, score=score, expected_low=200.0, expected_high=250.0, detector="d",
    ...         severity="warning" if score >= 12 else "info", labels={"platform": "a"})
    >>> review = Corroboration()
    >>> [e.severity for e in review.review([flagged(0, 14.0)])]
    ['info']
    >>> [e.severity for e in review.review([flagged(30, 9.0)])]
    ['warning']
    >>> [e.severity for e in review.review([flagged(600, 14.0)])]
    ['info']
    >>> [e.severity for e in review.review([flagged(900, 60.0)])]
    ['warning']
    """

    window_s: float = CORROBORATION_WINDOW_S
    strong_score: float = STRONG_SCORE
    #: series -> (when it was last flagged, whether that point was a warning held back)
    _last: dict[str, tuple[datetime, bool]] = field(default_factory=dict)

    def review(self, events: Sequence[AnomalyDetected]) -> list[AnomalyDetected]:
        """The round's anomalies with the severity this rule gives them (same order)."""
        watched = [event for event in events if _watched(event)]
        if not watched:
            return list(events)
        per_platform = Counter(event.labels.get("platform") for event in watched)
        reviewed: list[AnomalyDetected] = []
        for event in events:
            if not _watched(event):
                reviewed.append(event)
                continue
            severity = self._severity(event, per_platform[event.labels.get("platform")])
            reviewed.append(
                event if severity == event.severity else event.model_copy(
                    update={"severity": severity}
                )
            )  # fmt: skip
        return reviewed

    def _severity(self, event: AnomalyDetected, flagged_on_platform: int) -> Severity:
        last = self._last.get(event.series)
        recent = last is not None and (event.ts - last[0]).total_seconds() <= self.window_s
        held = recent and last is not None and last[1]
        if event.severity == "warning":
            shared = flagged_on_platform >= 2 and event.labels.get("platform") is not None
            if recent or shared or event.score >= self.strong_score:
                self._last[event.series] = (event.ts, False)
                return "warning"
            self._last[event.series] = (event.ts, True)
            return "info"
        self._last[event.series] = (event.ts, False)
        outside = not event.expected_low <= event.value <= event.expected_high
        return "warning" if held and outside else event.severity


def _watched(event: AnomalyDetected) -> bool:
    return event.series.split("{", 1)[0] in mc.ALERT_FROM_WARNING_SCORE
