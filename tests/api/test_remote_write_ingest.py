"""Group commit of concurrent remote write batches: fewer appends, each request its own fate;
the points handed to scoring."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pydantic import ValidationError

from selfheal_ml.api.remote_write_ingest import GroupCommit, trusted_point
from selfheal_ml.events import MetricPoint


def _table(value: float) -> pa.Table:
    return pa.table({"series": ["s"], "value": [value]})


class SlowStore:
    """Holds the first append until every sender has queued; refuses negative values."""

    def __init__(self, senders: int) -> None:
        self.calls: list[list[float]] = []
        self.stored: list[float] = []
        self.queued = threading.Barrier(senders + 1)
        self.first = True

    def append(self, table: pa.Table, labels: Mapping[str, Mapping[str, str]]) -> int:
        if self.first:
            self.first = False
            self.queued.wait(timeout=10)  # the others queue behind this append
        values = table.column("value").to_pylist()
        self.calls.append(values)
        if any(value < 0 for value in values):
            raise ValueError("negative value")
        self.stored.extend(values)
        return len(values)


def _send(commit: GroupCommit, values: list[float], store: SlowStore) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()

    def sender(value: float) -> None:
        try:
            commit.submit(_table(value), {})
            outcome = "ok"
        except ValueError:
            outcome = "refused"
        with lock:
            outcomes.append(f"{value:g}:{outcome}")

    first = threading.Thread(target=sender, args=(values[0],))
    first.start()
    while store.first:  # the first sender is inside its append
        threading.Event().wait(0.001)
    others = [threading.Thread(target=sender, args=(value,)) for value in values[1:]]
    for thread in others:
        thread.start()
    while len(commit._queued) < len(others):
        threading.Event().wait(0.001)
    store.queued.wait(timeout=10)
    for thread in [first, *others]:
        thread.join(timeout=10)
    return sorted(outcomes)


def test_batches_queued_during_an_append_are_committed_together() -> None:
    store = SlowStore(senders=1)
    commit = GroupCommit(store.append)
    outcomes = _send(commit, [1.0, 2.0, 3.0, 4.0], store)
    assert outcomes == ["1:ok", "2:ok", "3:ok", "4:ok"]
    assert sorted(store.stored) == [1.0, 2.0, 3.0, 4.0]
    assert len(store.calls) == 2 and sorted(store.calls[1]) == [2.0, 3.0, 4.0]


def test_a_refused_batch_fails_alone() -> None:
    store = SlowStore(senders=1)
    commit = GroupCommit(store.append)
    outcomes = _send(commit, [1.0, 2.0, -3.0, 4.0], store)
    assert outcomes == ["-3:refused", "1:ok", "2:ok", "4:ok"]
    assert sorted(store.stored) == [1.0, 2.0, 4.0]


def test_a_lone_refused_batch_raises_to_its_sender() -> None:
    store = SlowStore(senders=0)
    store.first = False
    with pytest.raises(ValueError, match="negative"):
        GroupCommit(store.append).submit(_table(-1.0), {})


def test_the_committer_waits_for_requests_still_decoding() -> None:
    """Two requests announced: the first to submit waits for the second, one append."""
    calls: list[int] = []
    commit = GroupCommit(lambda table, labels: calls.append(table.num_rows) or 0, 5.0)
    commit.arrive()
    commit.arrive()
    first = threading.Thread(target=commit.submit, args=(_table(1.0), {}))
    first.start()
    threading.Event().wait(0.05)  # the first is waiting: the second is still "decoding"
    assert calls == []
    commit.submit(_table(2.0), {})
    first.join(timeout=10)
    assert calls == [2]


def test_a_request_that_leaves_does_not_hold_up_the_commit() -> None:
    calls: list[int] = []
    commit = GroupCommit(lambda table, labels: calls.append(table.num_rows) or 0, 5.0)
    commit.arrive()
    commit.arrive()
    commit.leave()  # its body was refused
    started = time.perf_counter()
    commit.submit(_table(1.0), {})
    assert time.perf_counter() - started < 1.0
    assert calls == [1]


def test_a_trusted_point_is_the_point_validation_builds() -> None:
    ts = datetime(2026, 1, 5, tzinfo=UTC)
    labels = {"job": "node"}
    trusted = trusted_point('up{job="node"}', ts, 1.5, labels)
    validated = MetricPoint(series='up{job="node"}', ts=ts, value=1.5, labels=labels)
    assert trusted == validated
    assert trusted.model_dump_json() == validated.model_dump_json()
    assert trusted.model_fields_set == validated.model_fields_set
    with pytest.raises(ValidationError):  # frozen, as a validated one
        trusted.value = 2.0  # type: ignore[misc]
