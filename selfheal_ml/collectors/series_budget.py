"""SeriesBudget: at most ``max_series`` distinct series per target (collector).

One target exposing 20,000 series doubled the service's memory: every series gets a
detector, a forecast slot and catalogue rows. The budget admits the series a collector has
already been admitted with, and new ones while it has room; points of further new series
are dropped and counted (``dropped`` per collector, and a ``collector_series_dropped`` point
each round that dropped some, so the operator sees it on the dashboard and in the store). A
series not seen for ``forget_after_rounds`` rounds gives its place back, so a target whose
series change over time is not starved by the old ones.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.collectors.base import metric_point
>>> now = datetime(2026, 1, 1, tzinfo=UTC)
>>> budget = SeriesBudget(max_series=2)
>>> points = [metric_point("m", {"i": str(i)}, 1.0, now) for i in range(3)]
>>> [point.series for point in budget.admit("shop", points, now)]
['m{i="0"}', 'm{i="1"}', 'collector_series_dropped{collector="shop"}']
>>> budget.dropped["shop"]
1
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from selfheal_ml.collectors.base import metric_point
from selfheal_ml.events import MetricPoint

log = logging.getLogger("selfheal_ml.collectors")


class SeriesBudget:
    """Per-collector admission of series; not thread-safe (the Monitor's loop owns it)."""

    def __init__(self, max_series: int, forget_after_rounds: int = 60) -> None:
        if max_series < 1:
            raise ValueError(f"max_series: expected at least 1, got {max_series}")
        self.max_series = max_series
        self.forget_after_rounds = forget_after_rounds
        self.admitted: dict[str, dict[str, int]] = {}  # collector -> series -> last round
        self.rounds: dict[str, int] = {}
        self.dropped: dict[str, int] = {}

    def admit(
        self, collector: str, points: Sequence[MetricPoint], now: datetime
    ) -> list[MetricPoint]:
        """The points of ``collector`` within its budget, plus a drop count if any dropped."""
        round_number = self.rounds[collector] = self.rounds.get(collector, 0) + 1
        known = self.admitted.setdefault(collector, {})
        kept: list[MetricPoint] = []
        dropped = 0
        for point in points:
            if point.series not in known and len(known) >= self.max_series:
                self._forget_stale(known, round_number)
                if len(known) >= self.max_series:
                    dropped += 1
                    continue
            known[point.series] = round_number
            kept.append(point)
        if dropped:
            if collector not in self.dropped:
                log.warning(
                    "collector %s exposes more than %d series: dropping the new ones "
                    "(limits.max_series_per_target)",
                    collector,
                    self.max_series,
                )
            self.dropped[collector] = self.dropped.get(collector, 0) + dropped
            labels = {"collector": collector}
            kept.append(metric_point("collector_series_dropped", labels, float(dropped), now))
        return kept

    def _forget_stale(self, known: dict[str, int], round_number: int) -> None:
        oldest_kept = round_number - self.forget_after_rounds
        for series in [name for name, seen in known.items() if seen < oldest_kept]:
            del known[series]
