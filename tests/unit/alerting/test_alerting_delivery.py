"""Queued delivery: retries with backoff, counted; a full queue drops; nothing blocks."""

from __future__ import annotations

import threading
import time

from selfheal_ml.alerting.delivery import DeliveryCounters, QueuedNotifier, RetryPolicy


class Flaky:
    """Fails ``failures`` times, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[object] = []

    def __call__(self, payload: object) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("receiver down")
        self.accepted.append(payload)


def test_a_failure_is_retried_with_growing_backoff_and_counted() -> None:
    waits: list[float] = []
    counters = DeliveryCounters()
    receiver = Flaky(failures=2)
    policy = RetryPolicy(retries=3, backoff_s=0.5, max_backoff_s=10)
    notifier = QueuedNotifier("hook", receiver, policy, counters, sleep=waits.append)
    notifier.send("p1")
    assert notifier.flush(5.0)
    notifier.close()
    assert receiver.accepted == ["p1"]
    assert waits == [0.5, 1.0]
    count = counters.snapshot()["hook"]
    assert (count.delivered, count.retries, count.failed, count.dropped) == (1, 2, 0, 0)


def test_a_payload_is_given_up_after_the_last_retry() -> None:
    counters = DeliveryCounters()
    policy = RetryPolicy(retries=2, backoff_s=0.0)
    notifier = QueuedNotifier("hook", Flaky(failures=10), policy, counters, sleep=lambda _: None)
    notifier.send("p1")
    assert notifier.flush(5.0)
    notifier.close()
    count = counters.snapshot()["hook"]
    assert (count.delivered, count.retries, count.failed) == (0, 2, 1)


def test_send_never_blocks_on_a_slow_receiver_and_a_full_queue_drops() -> None:
    release = threading.Event()
    counters = DeliveryCounters()
    notifier = QueuedNotifier(
        "slow", lambda _: release.wait(10), RetryPolicy(retries=0), counters, queue_size=2
    )
    started = time.perf_counter()
    for index in range(6):
        notifier.send(index)
    elapsed_s = time.perf_counter() - started
    release.set()
    assert notifier.flush(10.0)
    notifier.close()
    assert elapsed_s < 1.0
    count = counters.snapshot()["slow"]
    assert count.dropped >= 3 and count.delivered + count.dropped == 6


def test_periodic_work_runs_while_idle() -> None:
    ticks: list[float] = []
    counters = DeliveryCounters()
    notifier = QueuedNotifier(
        "am",
        lambda _: None,
        RetryPolicy(),
        counters,
        periodic=lambda: ticks.append(1.0),
        period_s=0.05,
    )
    notifier.start()
    deadline = time.monotonic() + 5.0
    while len(ticks) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    notifier.close()
    assert len(ticks) >= 2
