"""Background delivery with retries: notifiers that never block the alerting loop.

:class:`QueuedNotifier` is a :class:`~selfheal_ml.alerting.notifiers.Notifier` whose ``send``
only puts the payload on a bounded queue and returns. One daemon thread per notifier takes
payloads in order and hands each to a ``deliver`` function (an HTTP POST), retrying a failure
up to ``RetryPolicy.retries`` times with exponential backoff (``backoff_s``, doubled each time,
at most ``max_backoff_s``). A payload that still fails is given up and counted; a full queue
drops the new payload and counts it. So a dead receiver costs the AlertManager nothing, and
every outcome is visible in ``/metrics`` through :class:`DeliveryCounters`.

An optional ``periodic`` function runs on the same thread every ``period_s`` while the queue
is idle: the Alertmanager client re-sends its firing alerts with it.

The AlertManager's notification log records a payload as delivered once it is queued;
``flush()`` waits until the queue is empty (tests, shutdown).

>>> counters = DeliveryCounters()
>>> delivered = []
>>> notifier = QueuedNotifier("demo", delivered.append, RetryPolicy(), counters)
>>> notifier.send("payload")  # any object: the deliver function decides
>>> notifier.flush()
True
>>> notifier.close()
>>> delivered, counters.snapshot()["demo"].delivered
(['payload'], 1)
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from selfheal_ml.errors import ConfigError

_LOGGER = logging.getLogger(__name__)
_STOP = object()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed delivery is tried again."""

    retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ConfigError("retries", "a count >= 0", self.retries)
        if not 0 <= self.backoff_s <= self.max_backoff_s:
            raise ConfigError("backoff_s", f"seconds in [0, {self.max_backoff_s}]", self.backoff_s)

    def delay_s(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1 = the first retry).

        >>> [RetryPolicy(backoff_s=1, max_backoff_s=3).delay_s(n) for n in (1, 2, 3)]
        [1.0, 2.0, 3.0]
        """
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class DeliveryCount:
    """What happened to one notifier's payloads."""

    delivered: int = 0
    retries: int = 0
    failed: int = 0
    dropped: int = 0


class DeliveryCounters:
    """Thread-safe per-notifier counts, read by ``/metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, DeliveryCount] = {}

    def register(self, notifier: str) -> None:
        """Start ``notifier`` at zero, so its series exist before the first delivery."""
        with self._lock:
            self._counts.setdefault(notifier, DeliveryCount())

    def add(self, notifier: str, **increments: int) -> None:
        """Add ``increments`` (delivered, retries, failed, dropped) to ``notifier``."""
        with self._lock:
            current = self._counts.get(notifier, DeliveryCount())
            updated = {key: getattr(current, key) + value for key, value in increments.items()}
            self._counts[notifier] = replace(current, **updated)

    def snapshot(self) -> dict[str, DeliveryCount]:
        """A copy of every notifier's counts."""
        with self._lock:
            return dict(self._counts)


class QueuedNotifier:
    """Queues payloads and delivers them on its own thread (see the module doc)."""

    def __init__(
        self,
        name: str,
        deliver: Callable[[Any], None],
        policy: RetryPolicy,
        counters: DeliveryCounters,
        *,
        queue_size: int = 1000,
        periodic: Callable[[], None] | None = None,
        period_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._name = name
        self.deliver = deliver
        self.policy = policy
        self.counters = counters
        self.periodic = periodic
        self.period_s = period_s
        self._sleep = sleep
        self._on_close = on_close
        self._queue: queue.Queue[Any] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        counters.register(name)

    @property
    def name(self) -> str:
        return self._name

    def send(self, payload: Any) -> None:
        """Queue ``payload``; never blocks, never raises (a full queue drops it, counted)."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self.counters.add(self._name, dropped=1)
            _LOGGER.warning("notifier %s: queue full, payload dropped", self._name)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queued payload was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Stop the thread after the payloads already queued, then ``on_close`` (release the
        receiver's connections)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=5.0)
        if self._on_close is not None:
            self._on_close()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"notifier:{self._name}", daemon=True
                )
                self._thread.start()

    def start(self) -> None:
        """Start the thread now (for ``periodic`` work before the first payload)."""
        self._ensure_thread()

    def _run(self) -> None:
        next_periodic = time.monotonic() + self.period_s
        while True:
            wait_s = max(0.0, next_periodic - time.monotonic()) if self.periodic else None
            try:
                item = self._queue.get(timeout=wait_s)
            except queue.Empty:
                if self.periodic is not None:
                    self._attempt(self.periodic)
                next_periodic = time.monotonic() + self.period_s
                continue
            try:
                if item is _STOP:
                    return
                self._attempt(functools.partial(self.deliver, item))
            finally:
                self._queue.task_done()

    def _attempt(self, action: Callable[[], None]) -> None:
        """Run ``action``, retrying with backoff; count the outcome."""
        for attempt in range(self.policy.retries + 1):
            if attempt:
                self.counters.add(self._name, retries=1)
                self._sleep(self.policy.delay_s(attempt))
            try:
                action()
            except Exception as exc:  # any failure of the receiver is retried, then counted
                _LOGGER.warning("notifier %s: attempt %d failed: %r", self._name, attempt + 1, exc)
                continue
            self.counters.add(self._name, delivered=1)
            return
        self.counters.add(self._name, failed=1)
