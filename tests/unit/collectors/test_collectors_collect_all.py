"""collect_all: concurrent collectors that fail alone, within their timeout."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from selfheal_ml.collectors import Collector, collect_all, metric_point
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Steady:
    """Answers after ``delay_s`` with one point."""

    def __init__(self, name: str, delay_s: float = 0.0) -> None:
        self.name = name
        self.delay_s = delay_s

    async def collect(self, now: datetime) -> list[MetricPoint]:
        await asyncio.sleep(self.delay_s)
        return [metric_point("steady_value", {"collector": self.name}, 1.0, now)]


class Hanging:
    """Sleeps far longer than any test timeout; records whether it was cancelled."""

    def __init__(self, name: str = "hanging") -> None:
        self.name = name
        self.cancelled = False

    async def collect(self, now: datetime) -> list[MetricPoint]:
        try:
            await asyncio.sleep(30.0)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return []


class Raising:
    name = "raising"

    async def collect(self, now: datetime) -> list[MetricPoint]:
        raise RuntimeError("sensor exploded")


class TargetDown:
    """Handles its own failure: an up=0 point and ``last_error``."""

    name = "target-down"
    last_error: str | None = None

    async def collect(self, now: datetime) -> list[MetricPoint]:
        self.last_error = "ConnectionRefusedError: refused"
        return [metric_point("db_up", {"target": "db"}, 0.0, now)]


def up_values(points: list[MetricPoint]) -> dict[str, float]:
    return {
        point.labels["collector"]: point.value
        for point in points
        if point.series.startswith("collector_up")
    }


def test_fakes_satisfy_the_protocol() -> None:
    for collector in (Steady("a"), Hanging(), Raising(), TargetDown()):
        assert isinstance(collector, Collector)


async def test_hanging_collector_does_not_block_the_others() -> None:
    hanging = Hanging()
    collectors: list[Collector] = [Steady("fast"), hanging, Steady("slower", delay_s=0.05)]
    started = time.perf_counter()
    result = await collect_all(collectors, NOW, timeout_s=0.3)
    elapsed_s = time.perf_counter() - started
    assert 0.3 <= elapsed_s < 0.9  # about its timeout, far below its 30 s sleep
    assert up_values(result.points) == {"fast": 1.0, "hanging": 0.0, "slower": 1.0}
    steady = [point for point in result.points if point.series.startswith("steady_value")]
    assert {point.labels["collector"] for point in steady} == {"fast", "slower"}
    assert result.errors == {"hanging": "timed out after 0.3 s"}
    assert hanging.cancelled
    assert result.durations_s["fast"] < 0.3
    assert result.durations_s["hanging"] >= 0.3


async def test_collectors_run_concurrently() -> None:
    collectors = [Steady(f"c{index}", delay_s=0.2) for index in range(5)]
    started = time.perf_counter()
    result = await collect_all(collectors, NOW, timeout_s=2.0)
    assert time.perf_counter() - started < 0.6  # five 0.2 s collectors, not 1 s in sequence
    assert set(up_values(result.points).values()) == {1.0}


async def test_raising_collector_fails_alone() -> None:
    result = await collect_all([Raising(), Steady("fine")], NOW, timeout_s=1.0)
    assert result.errors == {"raising": "RuntimeError: sensor exploded"}
    assert up_values(result.points) == {"raising": 0.0, "fine": 1.0}


async def test_target_failure_is_reported_but_collector_counts_as_up() -> None:
    result = await collect_all([TargetDown()], NOW, timeout_s=1.0)
    assert result.errors == {"target-down": "ConnectionRefusedError: refused"}
    assert up_values(result.points) == {"target-down": 1.0}
    assert 'db_up{target="db"}' in {point.series for point in result.points}


async def test_points_carry_the_round_time() -> None:
    result = await collect_all([Steady("a"), Raising()], NOW, timeout_s=1.0)
    assert {point.ts for point in result.points} == {NOW}


async def test_empty_round() -> None:
    result = await collect_all([], NOW, timeout_s=1.0)
    assert (result.points, result.errors, result.durations_s) == ([], {}, {})


async def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        await collect_all([Steady("same"), Steady("same")], NOW, timeout_s=1.0)
    assert caught.value.field == "collectors"


@pytest.mark.parametrize("timeout_s", [0.0, -1.0])
async def test_non_positive_timeout_is_refused(timeout_s: float) -> None:
    with pytest.raises(ValidationError) as caught:
        await collect_all([Steady("a")], NOW, timeout_s=timeout_s)
    assert caught.value.field == "timeout_s"


async def test_cancelling_the_round_cancels_its_collectors() -> None:
    hanging = Hanging()
    round_task = asyncio.create_task(collect_all([hanging, Steady("fast")], NOW, timeout_s=10.0))
    await asyncio.sleep(0.05)
    round_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await round_task
    await asyncio.sleep(0)  # let the collector's task run its cancellation
    assert hanging.cancelled


class Counting:
    """Answers after ``delay_s``; records how many of its kind run at once."""

    running = 0
    peak = 0

    def __init__(self, name: str, delay_s: float = 0.01) -> None:
        self.name = name
        self.delay_s = delay_s

    async def collect(self, now: datetime) -> list[MetricPoint]:
        Counting.running += 1
        Counting.peak = max(Counting.peak, Counting.running)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            Counting.running -= 1
        return [metric_point("steady_value", {"collector": self.name}, 1.0, now)]


async def test_concurrency_limit_bounds_collectors_running_at_once() -> None:
    Counting.running = Counting.peak = 0
    collectors = [Counting(f"c{index}") for index in range(12)]
    result = await collect_all(collectors, NOW, 2.0, max_concurrency=3)
    assert Counting.peak == 3
    assert not result.errors and len(result.points) == 24


async def test_a_hanging_target_does_not_starve_the_others_under_a_limit() -> None:
    collectors: list[Collector] = [Hanging(), *(Steady(f"s{index}", 0.01) for index in range(8))]
    result = await collect_all(collectors, NOW, 0.5, max_concurrency=2)
    assert set(result.errors) == {"hanging"}
    ups = {p.labels["collector"]: p.value for p in result.points if p.series.startswith("coll")}
    assert sum(ups.values()) == 8.0 and ups["hanging"] == 0.0


async def test_concurrency_limit_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="max_concurrency"):
        await collect_all([Steady("s")], NOW, 1.0, max_concurrency=0)
