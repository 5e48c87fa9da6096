"""The last minutes of a few series as the Predictive agent saw them, kept in memory.

The capacity check's short look (a leak within the hour) needs the newest points; the
MetricsStore may hold them back (virtual-time replays write an hour at a time, a remote
scorer's rows arrive later). :class:`RecentWindow` keeps, per watched series, the points of
the last ``window_s`` seconds from the rounds the agent handled: bounded, no store round trip,
the same in the live service and in a replay.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from selfheal_ml.events import MetricPoint


class RecentWindow:
    """Per series, the (time, value) points of the last ``window_s`` seconds."""

    def __init__(self, prefixes: tuple[str, ...], window_s: float) -> None:
        self.prefixes = prefixes  # series keys that start with one of these are kept
        self.window = timedelta(seconds=window_s)
        self.points: dict[str, deque[tuple[datetime, float]]] = {}

    def observe(self, points: Iterable[MetricPoint]) -> None:
        """Keep the watched series' points of a round; drop what fell out of the window."""
        prefixes, kept = self.prefixes, self.points
        for point in points:
            if point.series.startswith(prefixes):
                series = kept.get(point.series)
                if series is None:
                    series = kept[point.series] = deque()
                series.append((point.ts, point.value))
                horizon = point.ts - self.window
                while series and series[0][0] < horizon:
                    series.popleft()

    def since(self, name: str, since: datetime) -> list[tuple[datetime, float]]:
        """The kept points of ``name`` at or after ``since``, oldest first."""
        return [item for item in self.points.get(name, ()) if item[0] >= since]
