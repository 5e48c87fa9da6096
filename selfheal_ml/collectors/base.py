"""The collector contract and the concurrent round that runs every collector at once.

A collector reads one source (an HTTP endpoint, a database, a cache, the host) and returns
metric points for one instant. ``collect_all`` runs a set of them concurrently, each bounded
by the same timeout, so one that hangs or raises fails alone: its error is recorded, a
``collector_up{collector=...} 0`` point says so, and the others' points arrive unharmed.

Collectors that reach a remote target never raise for an unreachable target: they emit their
``*_up 0`` point and set ``last_error``, which ``collect_all`` copies into ``errors`` too.

>>> import asyncio
>>> from datetime import datetime, UTC
>>> class Constant:
...     name = "constant"
...     async def collect(self, now):
...         return [metric_point("answer", {}, 42.0, now)]
>>> result = asyncio.run(collect_all([Constant()], datetime(2026, 1, 1, tzinfo=UTC), 1.0))
>>> [point.series for point in result.points], result.errors
(['answer', 'collector_up{collector="constant"}'], {})
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint, series_key

#: Collectors a Monitor round runs at once (its ``collection_concurrency``), by default.
DEFAULT_COLLECTION_CONCURRENCY = 64

#: Time granted to a timed-out collector to run its ``finally`` blocks (close sockets).
CANCEL_GRACE_S = 0.1


@runtime_checkable
class Collector(Protocol):
    """Reads one source and returns its metric points at ``now``."""

    name: str

    async def collect(self, now: datetime) -> list[MetricPoint]:
        """The points observed now; must not leave connections open."""
        ...


#: ``(collector name, its points, now) -> the points kept``
Admission = Callable[[str, Sequence[MetricPoint], datetime], list[MetricPoint]]


@dataclass(frozen=True)
class CollectionResult:
    """The outcome of one round: all points, failures by collector name, time per collector."""

    points: list[MetricPoint]
    errors: dict[str, str] = field(default_factory=dict)
    durations_s: dict[str, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=65536)
def _cached_key(name: str, items: tuple[tuple[str, str], ...]) -> str:
    return series_key(name, dict(items))


def cached_series_key(name: str, labels: dict[str, str]) -> str:
    """:func:`series_key` of ``name`` and ``labels``, memoised like :func:`metric_point`'s.

    >>> cached_series_key("jobs", {"z": "1", "a": "2"})
    'jobs{a="2",z="1"}'
    """
    return _cached_key(name, tuple(labels.items()))


def metric_point(name: str, labels: dict[str, str], value: float, now: datetime) -> MetricPoint:
    """A point whose ``series`` is the canonical key of ``name`` and ``labels``.

    Every round rebuilds the same keys, so they are memoised (bounded): sorting and joining
    the labels was a tenth of a scrape's cost.

    >>> from datetime import datetime, UTC
    >>> metric_point("db_up", {"target": "main"}, 1.0, datetime(2026, 1, 1, tzinfo=UTC)).series
    'db_up{target="main"}'
    """
    key = _cached_key(name, tuple(labels.items()))
    return MetricPoint(series=key, ts=now, value=value, labels=labels)


def target_labels(target: str, platform: str | None) -> dict[str, str]:
    """The identifying labels of a target: ``target`` always, ``platform`` when known.

    >>> target_labels("shop-db", "leadsite.ai")
    {'target': 'shop-db', 'platform': 'leadsite.ai'}
    """
    labels = {"target": target}
    if platform:
        labels["platform"] = platform
    return labels


def describe_error(error: BaseException) -> str:
    """A one-line description naming the exception type.

    >>> describe_error(ConnectionRefusedError("refused"))
    'ConnectionRefusedError: refused'
    """
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def describe_failure(error: BaseException, timeout_s: float) -> str:
    """Like :func:`describe_error`, but an expired ``asyncio.timeout`` says how long it was.

    >>> describe_failure(TimeoutError(), 2.5)
    'timed out after 2.5 s'
    """
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    return describe_error(error)


@dataclass(frozen=True)
class _Outcome:
    """What one collector produced; ``failed`` when it raised or timed out."""

    points: list[MetricPoint]
    error: str | None
    duration_s: float
    failed: bool = False


async def _run_one(
    collector: Collector, now: datetime, slots: asyncio.Semaphore | None = None
) -> _Outcome:
    if slots is not None:
        async with slots:  # the collector's own timeout starts once it holds a slot
            return await _run_one(collector, now)
    started = time.perf_counter()
    try:
        points = await collector.collect(now)
    except Exception as error:  # one failing collector must not sink the round
        return _Outcome([], describe_error(error), time.perf_counter() - started, failed=True)
    last_error = getattr(collector, "last_error", None)
    error_text = last_error if isinstance(last_error, str) else None
    return _Outcome(points, error_text, time.perf_counter() - started)


def _discard_outcome(task: asyncio.Task[_Outcome]) -> None:
    """Retrieve a late task's outcome so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _check_names(collectors: Sequence[Collector]) -> None:
    seen: set[str] = set()
    for collector in collectors:
        if collector.name in seen:
            raise ValidationError("collectors", f"duplicate collector name {collector.name!r}")
        seen.add(collector.name)


async def _wait_round(
    tasks: Sequence[asyncio.Task[_Outcome]], timeout_s: float
) -> set[asyncio.Task[_Outcome]]:
    """Wait up to ``timeout_s``; cancel and return the tasks still running.

    If the caller is cancelled meanwhile, every task is cancelled too: nothing outlives it.
    """
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.add_done_callback(_discard_outcome)
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
    return pending


async def collect_all(
    collectors: Sequence[Collector],
    now: datetime,
    timeout_s: float,
    max_concurrency: int | None = None,
    admit: Admission | None = None,
) -> CollectionResult:
    """Run every collector concurrently, each failing alone within ``timeout_s``.

    Give ``timeout_s`` a little more than the largest collector's own timeout, so targets that
    time out are reported by their collector (``*_up 0``) rather than cut off here.
    ``max_concurrency`` (if given) bounds how many collectors run at once: hundreds of
    targets then do not open hundreds of sockets and parse hundreds of pages in one burst,
    and a slow target holds one slot for at most its own timeout, never the others' turn.
    ``timeout_s`` stays the round's deadline: collectors still waiting then are cut off.
    ``admit`` (e.g. a ``SeriesBudget``'s) filters each collector's points.
    """
    if not timeout_s > 0:
        raise ValidationError("timeout_s", f"expected a positive duration, got {timeout_s!r}")
    if max_concurrency is not None and max_concurrency < 1:
        raise ValidationError("max_concurrency", f"expected >= 1, got {max_concurrency!r}")
    _check_names(collectors)
    started = time.perf_counter()
    slots = asyncio.Semaphore(max_concurrency) if max_concurrency is not None else None
    tasks = [
        asyncio.create_task(_run_one(collector, now, slots), name=collector.name)
        for collector in collectors
    ]
    pending = await _wait_round(tasks, timeout_s)
    timed_out = _Outcome(
        [], f"timed out after {timeout_s:g} s", time.perf_counter() - started, failed=True
    )
    result = CollectionResult(points=[])
    for collector, task in zip(collectors, tasks, strict=True):
        outcome = timed_out if task in pending else task.result()
        points = outcome.points if admit is None else admit(collector.name, outcome.points, now)
        result.points.extend(points)
        if outcome.error is not None:
            result.errors[collector.name] = outcome.error
        result.durations_s[collector.name] = outcome.duration_s
        up = 0.0 if outcome.failed else 1.0
        result.points.append(metric_point("collector_up", {"collector": collector.name}, up, now))
    return result
