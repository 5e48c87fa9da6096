"""Group commit of concurrent remote write batches: fewer appends, each request its own fate."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pyarrow as pa
import pytest

from selfheal_ml.api.remote_write_ingest import GroupCommit


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
