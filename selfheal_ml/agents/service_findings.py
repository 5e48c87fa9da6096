"""The Performance agent's findings about the service itself: endpoints and memory leaks.

- **Endpoints**: the Monitor's per-endpoint series (``MetricsCollected``) accumulate in an
  :class:`~selfheal_ml.performance.endpoint_window.EndpointWindow` between two optimisation
  rounds; each round judges them (``slow_endpoint``, ``hot_endpoint``) per platform, and the
  platform's request count of the window is the denominator of calls per request (N+1 loops
  without trace comments).
- **Memory leaks**: a ``BreachPredicted`` on a memory series (the Predictive agent's forecast
  of a rising memory series) is a ``memory_leak`` finding of its platform (or target, host)
  until the predicted time passes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from selfheal_ml.events import BreachPredicted, Event, MetricsCollected
from selfheal_ml.performance import Finding, PerformanceThresholds
from selfheal_ml.performance.endpoint_rules import endpoint_findings
from selfheal_ml.performance.endpoint_window import EndpointWindow
from selfheal_ml.performance.memory_rules import is_memory_series, memory_leak


class ServiceFindings:
    """Endpoint and memory-leak findings by place (platform or target), per round."""

    def __init__(self, start: datetime, thresholds: PerformanceThresholds | None = None) -> None:
        self.thresholds = thresholds or PerformanceThresholds()
        self.window = EndpointWindow(start)
        self.leaks: dict[tuple[str, str], tuple[datetime, Finding]] = {}
        self._reported: set[str] = set()

    def observe(self, event: Event) -> None:
        """Take collected points and predicted memory breaches (other events are ignored)."""
        if isinstance(event, MetricsCollected):
            for point in event.points:
                name = point.series.split("{", 1)[0]
                self.window.add(name, point.labels, point.value, point.ts)
        elif isinstance(event, BreachPredicted) and is_memory_series(event.series):
            labels = event.labels
            place = labels.get("platform") or labels.get("target") or labels.get("host")
            finding = memory_leak(event.series, event.limit, event.eta, event.probability, event.ts)
            self.leaks[(place or "service", event.series)] = (event.eta, finding)

    def requests(self, platform: str | None, now: datetime) -> int | None:
        """The platform's requests in the current window, when its traffic is collected."""
        return self.window.requests(platform, now) if platform else None

    def close_window(self, now: datetime) -> dict[str, list[Finding]]:
        """The window's findings by place (an empty list for a place whose findings of the
        previous window are gone); a new window starts at ``now``."""
        places: dict[str, list[Finding]] = defaultdict(list)
        for finding in endpoint_findings(self.window.endpoints(), self.thresholds):
            places[(finding.endpoint or " ").split(" ", 1)[0]].append(finding)
        self.leaks = {key: value for key, value in self.leaks.items() if value[0] > now}
        for (place, _), (_, finding) in sorted(self.leaks.items()):
            places[place].append(finding)
        self.window.reset(now)
        reported, self._reported = self._reported, set(places)
        return {**{place: [] for place in reported}, **places}
