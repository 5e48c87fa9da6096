"""Which watched databases have an open performance problem (so their rounds may sample).

The Performance agent's overhead budget (the seed's 1-2 queries per minute per watched
database) excludes sampling *while a problem is open*. This module says when one is, from the
events the agent sees:

- a firing latency or slow-query alert (``HighResponseTime``, ``SlowQueries``) whose labels
  name the database (``target``) or a platform using it: open until the alert resolves;
- a latency or query-duration anomaly (:data:`PROBLEM_METRICS`) on the database or its
  platform, or a slow-query diagnosis naming either (the Diagnostic agent's request):
  open for ``hold_s`` after the event.

Pure bookkeeping over event fields; the agent asks :meth:`OpenProblems.is_open` per round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.events import AlertRaised, AnomalyDetected, Event, IncidentDiagnosed

#: Alerts that say requests or queries are slow.
PROBLEM_ALERTS = frozenset({"HighResponseTime", "SlowQueries"})
#: Series whose anomalies say requests or queries are slow.
PROBLEM_METRICS = frozenset(
    {
        mc.HTTP_LATENCY_P95_MS,
        mc.HTTP_LATENCY_P99_MS,
        mc.PROBE_LATENCY_MS,
        mc.DB_QUERY_DURATION_MS,
        mc.DB_SLOW_QUERIES,
        mc.DB_SLOW_QUERIES_PER_S,
    }
)
DEFAULT_HOLD_S = 900.0


@dataclass
class OpenProblems:
    """Open problems per place (a target or platform name).

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    >>> problems = OpenProblems()
    >>> problems.is_open(("shop-db", "shop"), now)
    False
    >>> alert = AlertRaised(ts=now, source="Monitor", alertname="HighResponseTime",
    ...                     severity="warning", labels={"target": "shop-api", "platform": "shop"})
    >>> problems.observe(alert)
    >>> problems.is_open(("shop-db", "shop"), now), problems.is_open(("other-db",), now)
    (True, False)
    >>> problems.observe(alert.model_copy(update={"firing": False}))
    >>> problems.is_open(("shop-db", "shop"), now)
    False
    """

    hold_s: float = DEFAULT_HOLD_S
    firing: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    until: dict[str, datetime] = field(default_factory=dict)

    def observe(self, event: Event) -> None:
        """Take note of an alert, anomaly or diagnosis (other events are ignored)."""
        if isinstance(event, AlertRaised):
            self._alert(event)
        elif isinstance(event, AnomalyDetected):
            if event.series.split("{", 1)[0] in PROBLEM_METRICS:
                self._hold(_places(event.labels), event.ts)
        elif isinstance(event, IncidentDiagnosed) and event.diagnosis.root_cause == "slow_query":
            diagnosis = event.diagnosis
            places = {*diagnosis.platforms, diagnosis.component or "", diagnosis.target_platform}
            self._hold({place for place in places if place}, event.ts)

    def is_open(self, places: tuple[str, ...], now: datetime) -> bool:
        """Whether a problem is open on any of ``places`` (the database's target name and
        its platforms) at ``now``."""
        for place in places:
            if any(place in names for names in self.firing.values()):
                return True
            if place in self.until and now < self.until[place]:
                return True
        return False

    def _alert(self, event: AlertRaised) -> None:
        if event.alertname not in PROBLEM_ALERTS:
            return
        key = (event.alertname, repr(sorted(event.labels.items())))
        if event.firing:
            self.firing[key] = _places(event.labels)
        else:
            self.firing.pop(key, None)

    def _hold(self, places: set[str], at: datetime) -> None:
        until = at + timedelta(seconds=self.hold_s)
        for place in places:
            self.until[place] = max(until, self.until.get(place, until))


def _places(labels: dict[str, str]) -> set[str]:
    return {labels[name] for name in ("target", "platform") if labels.get(name)}
