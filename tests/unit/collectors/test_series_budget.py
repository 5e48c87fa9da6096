"""The per-target series budget: a target with too many series loses only its new ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from selfheal_ml.collectors.base import collect_all, metric_point
from selfheal_ml.collectors.series_budget import SeriesBudget
from selfheal_ml.events import MetricPoint

NOW = datetime(2026, 1, 5, tzinfo=UTC)


class Exposing:
    """A collector exposing ``count`` series, their names starting at ``first``."""

    def __init__(self, name: str, count: int, first: int = 0) -> None:
        self.name = name
        self.count = count
        self.first = first

    async def collect(self, now: datetime) -> list[MetricPoint]:
        return [
            metric_point("m", {"i": str(i)}, 1.0, now)
            for i in range(self.first, self.first + self.count)
        ]


def test_a_noisy_target_is_capped_and_counted_and_a_quiet_one_is_untouched() -> None:
    budget = SeriesBudget(max_series=100)
    noisy, quiet = Exposing("noisy", 20_000), Exposing("quiet", 10)
    result = asyncio.run(collect_all([noisy, quiet], NOW, 5.0, admit=budget.admit))
    assert sum(1 for point in result.points if point.series.startswith("m{")) == 110
    dropped = [p for p in result.points if p.series.startswith("collector_series_dropped")]
    assert [(p.labels, p.value) for p in dropped] == [({"collector": "noisy"}, 19_900.0)]
    assert budget.dropped == {"noisy": 19_900}
    assert len(budget.admitted["noisy"]) == 100 and len(budget.admitted["quiet"]) == 10
    again = asyncio.run(collect_all([noisy], NOW, 5.0, admit=budget.admit))
    kept = {p.series for p in again.points if p.series.startswith("m{")}
    assert kept == set(budget.admitted["noisy"])  # the same 100 each round


def test_series_gone_for_long_give_their_place_back() -> None:
    budget = SeriesBudget(max_series=5, forget_after_rounds=2)
    old, new = Exposing("t", 5), Exposing("t", 5, first=100)
    budget.admit("t", asyncio.run(old.collect(NOW)), NOW)
    for _ in range(3):
        budget.admit("t", [], NOW)
    kept = budget.admit("t", asyncio.run(new.collect(NOW)), NOW)
    assert len(kept) == 5 and "t" not in budget.dropped
