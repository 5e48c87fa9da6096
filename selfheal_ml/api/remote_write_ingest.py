"""Remote write ingest: decoded batches into the MetricsStore, then to the Predictive agent.

:class:`RemoteWriteIngest` is what ``POST /api/v1/write`` runs. A body is decoded
(:class:`~selfheal_ml.collectors.remote_write.RemoteWriteDecoder`), appended to the
MetricsStore in one transaction (:meth:`MetricsStore.append_batch`: all or nothing), and only
then acknowledged. A refused body (400/413) writes nothing, so what was acknowledged before is
untouched.

Stored series are scored and forecast like collected ones: after the append, a
``MetricsCollected`` event carries the newest sample of each series in the body to the
Predictive agent (Prometheus sends each series once per scrape interval, so that is every
sample at its usual pace), and forecasts read the store as for any series.

Concurrent requests are committed together (:class:`GroupCommit`): Prometheus sends from
several shards at once, and one append of their batches costs much less than one per request
(an append has a fixed cost of a few statements). Each request still returns only once its
own rows are committed, and a batch the store refuses fails alone.

Counts (requests by outcome, samples stored, samples dropped as non-finite) feed ``/metrics``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from selfheal_ml.collectors.remote_write import DecodedWrite, RemoteWriteDecoder
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.storage.metrics import MetricsStore

SOURCE = "remote_write"


class RemoteWriteCounters:
    """Thread-safe counts of the ingest, read by ``/metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter({"ok": 0, "malformed": 0, "too_large": 0})
        self.samples = 0
        self.dropped = 0

    def record(self, outcome: str, samples: int = 0, dropped: int = 0) -> None:
        """One request with ``outcome`` (ok, malformed, too_large, unauthorized)."""
        with self._lock:
            self.requests[outcome] += 1
            self.samples += samples
            self.dropped += dropped

    def snapshot(self) -> tuple[dict[str, int], int, int]:
        """Requests by outcome, samples stored, samples dropped."""
        with self._lock:
            return dict(self.requests), self.samples, self.dropped


AppendBatch = Callable[[pa.Table, Mapping[str, Mapping[str, str]]], int]


@dataclass
class _Pending:
    """One request's batch waiting for a commit."""

    table: pa.Table
    labels: Mapping[str, Mapping[str, str]]
    done: bool = False
    error: Exception | None = None


@dataclass
class GroupCommit:
    """Appends the batches of concurrent requests in one call (leader/follower).

    Every caller queues its batch, then takes the append lock; the one that gets it appends
    everything queued so far in one call and marks those batches done, so the others find
    theirs done when they get the lock. If the combined append is refused, each batch is
    appended alone, so only the bad one fails (and raises in its own caller).
    """

    append: AppendBatch
    _queue_lock: threading.Lock = field(default_factory=threading.Lock)
    _append_lock: threading.Lock = field(default_factory=threading.Lock)
    _queued: list[_Pending] = field(default_factory=list)
    commits: int = 0

    def submit(self, table: pa.Table, labels: Mapping[str, Mapping[str, str]]) -> None:
        """Return once ``table`` is committed; raise what its append raised."""
        pending = _Pending(table, labels)
        with self._queue_lock:
            self._queued.append(pending)
        with self._append_lock:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._commit(batch)
        if pending.error is not None:
            raise pending.error

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            self._append_together(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                self._append_alone(batch)
        for pending in batch:
            pending.done = True

    def _append_together(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            self.append(batch[0].table, batch[0].labels)
        else:
            labels: dict[str, Mapping[str, str]] = {}
            for pending in batch:
                labels.update(pending.labels)
            self.append(pa.concat_tables([pending.table for pending in batch]), labels)
        self.commits += 1

    def _append_alone(self, batch: list[_Pending]) -> None:
        """After a refused combined append: each batch alone, so only the bad one fails."""
        for pending in batch:
            try:
                self.append(pending.table, pending.labels)
                self.commits += 1
            except Exception as error:  # handed to the request that sent it
                pending.error = error


class RemoteWriteIngest:
    """Decode, store, hand to scoring (see the module doc)."""

    def __init__(self, decoder: RemoteWriteDecoder, counters: RemoteWriteCounters) -> None:
        self.decoder = decoder
        self.counters = counters
        self._decode_lock = threading.Lock()  # the decoder's key cache is not thread-safe
        self._commit: tuple[MetricsStore, GroupCommit] | None = None

    def store(self, body: bytes, metrics: MetricsStore) -> DecodedWrite:
        """Decode and append ``body``; raises ``RemoteWriteError`` before writing anything."""
        with self._decode_lock:
            decoded = self.decoder.decode(body)
        if decoded.samples:
            self._group_commit(metrics).submit(decoded.table, decoded.labels)
        return decoded

    def _group_commit(self, metrics: MetricsStore) -> GroupCommit:
        """The group commit of ``metrics`` (a new runtime brings a new store)."""
        with self._decode_lock:
            if self._commit is None or self._commit[0] is not metrics:
                self._commit = (metrics, GroupCommit(metrics.append_batch))
            return self._commit[1]

    @staticmethod
    def collected_event(decoded: DecodedWrite) -> MetricsCollected | None:
        """The newest point of each series of ``decoded`` as one ``MetricsCollected``."""
        if not decoded.newest:
            return None
        points = tuple(
            MetricPoint(
                series=key,
                ts=datetime.fromtimestamp(stamp / 1000.0, UTC),
                value=value,
                labels=decoded.labels.get(key, {}),
            )
            for key, (stamp, value) in decoded.newest.items()
        )
        last = max(point.ts for point in points)
        return MetricsCollected(ts=last, source=SOURCE, points=points)

    def store_for_scoring(
        self, body: bytes, metrics: MetricsStore
    ) -> tuple[DecodedWrite, MetricsCollected | None]:
        """:meth:`store`, then the event for scoring: both in the caller's worker thread,
        so building thousands of points never holds up the event loop."""
        decoded = self.store(body, metrics)
        return decoded, self.collected_event(decoded)
