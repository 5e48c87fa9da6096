"""RecentWindow: the last minutes of the watched series, bounded, nothing else kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.agents.recent_window import RecentWindow
from selfheal_ml.events import MetricPoint

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _point(series: str, minutes: int, value: float) -> MetricPoint:
    return MetricPoint(series=series, ts=T0 + timedelta(minutes=minutes), value=value)


def test_keeps_watched_series_within_the_window() -> None:
    window = RecentWindow(("host_memory_percent{",), window_s=600.0)
    memory = 'host_memory_percent{platform="a"}'
    for minute in range(30):
        window.observe([_point(memory, minute, float(minute)), _point("other{}", minute, 1.0)])
    assert list(window.points) == [memory]
    assert len(window.points[memory]) == 11  # minutes 19..29: ten minutes back, both ends in
    recent = window.since(memory, T0 + timedelta(minutes=25))
    assert [value for _, value in recent] == [25.0, 26.0, 27.0, 28.0, 29.0]
    assert window.since('host_memory_percent{platform="b"}', T0) == []
