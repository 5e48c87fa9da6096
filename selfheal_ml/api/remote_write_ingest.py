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
(an append has a fixed cost: its statements and the commit, which writes and syncs the
write-ahead log). The request that commits waits a few milliseconds for requests still being
decoded to join. Each request still returns only once its own rows are committed, and a
batch the store refuses fails alone.

pyarrow is imported by the first body decoded (see the decoder), not by this module.

Counts (requests by outcome, samples stored, samples dropped as non-finite) feed ``/metrics``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from selfheal_ml.collectors.remote_write import DecodedWrite, RemoteWriteDecoder
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.storage.metrics import MetricsStore

if TYPE_CHECKING:
    import pyarrow as pa

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


AppendBatch = Callable[["pa.Table", Mapping[str, Mapping[str, str]]], int]


@dataclass
class _Pending:
    """One request's batch waiting for a commit."""

    table: pa.Table
    labels: Mapping[str, Mapping[str, str]]
    done: bool = False
    error: Exception | None = None


#: How long the committing request waits for requests still being decoded to join its append.
GATHER_WINDOW_S = 0.1


@dataclass
class GroupCommit:
    """Appends the batches of concurrent requests in one call (leader/follower).

    A request announces itself (:meth:`arrive`) before it decodes, then queues its batch and
    takes the append lock (:meth:`submit`). The one that gets the lock first waits up to
    ``gather_window_s`` for the requests still decoding to queue theirs, and for as many
    batches as the previous append had (the senders of that group answer and send again
    together), appends everything queued in one call and marks those batches done, so the
    others find theirs done when they get the lock. A lone sender never waits. If the combined
    append is refused, each batch is appended alone, so only the bad one fails (and raises in
    its own caller). Each request returns only once its own rows are committed.
    """

    append: AppendBatch
    gather_window_s: float = GATHER_WINDOW_S
    _state: threading.Condition = field(default_factory=threading.Condition)
    _append_lock: threading.Lock = field(default_factory=threading.Lock)
    _queued: list[_Pending] = field(default_factory=list)
    _arriving: int = 0
    _expected: int = 1
    commits: int = 0

    def arrive(self) -> None:
        """A request will :meth:`submit` (or :meth:`leave`) soon: worth waiting for."""
        with self._state:
            self._arriving += 1

    def leave(self) -> None:
        """An announced request will not submit (its body was refused or empty)."""
        with self._state:
            self._arriving -= 1
            self._state.notify_all()

    def submit(self, table: pa.Table, labels: Mapping[str, Mapping[str, str]]) -> None:
        """Return once ``table`` is committed; raise what its append raised.

        Called after :meth:`arrive` (or without it, for a caller that never announces)."""
        pending = _Pending(table, labels)
        with self._state:
            self._queued.append(pending)
            self._arriving = max(self._arriving - 1, 0)
            self._state.notify_all()
        with self._append_lock:
            if not pending.done:
                with self._state:
                    self._state.wait_for(self._gathered, self.gather_window_s)
                    batch, self._queued = self._queued, []
                    self._expected = len(batch)
                self._commit(batch)
        if pending.error is not None:
            raise pending.error

    def _gathered(self) -> bool:
        """Nobody is still decoding, and as many batches are queued as the last append had
        (the senders of a group come back together; one that stopped costs one window)."""
        return self._arriving == 0 and len(self._queued) >= self._expected

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
            import pyarrow as pa

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


_POINT_FIELDS = frozenset({"series", "ts", "value", "labels"})


def trusted_point(series: str, ts: datetime, value: float, labels: dict[str, str]) -> MetricPoint:
    """A :class:`MetricPoint` of fields already valid (a canonical key, an aware time, a
    finite float), without validation.

    ``MetricPoint.model_construct`` skips validation too, but runs Python per field and cost
    7 us a point here against under 2 us for this; the instance is the one validation would
    build (tests/api/test_remote_write_ingest.py compares them).
    """
    point = object.__new__(MetricPoint)
    object.__setattr__(
        point, "__dict__", {"series": series, "ts": ts, "value": value, "labels": labels}
    )
    object.__setattr__(point, "__pydantic_fields_set__", set(_POINT_FIELDS))
    object.__setattr__(point, "__pydantic_extra__", None)
    object.__setattr__(point, "__pydantic_private__", None)
    return point


class RemoteWriteIngest:
    """Decode, store, hand to scoring (see the module doc)."""

    def __init__(self, decoder: RemoteWriteDecoder, counters: RemoteWriteCounters) -> None:
        self.decoder = decoder
        self.counters = counters
        self._decode_lock = threading.Lock()  # the decoder's key cache is not thread-safe
        self._commit: tuple[MetricsStore, GroupCommit] | None = None

    def store(self, body: bytes, metrics: MetricsStore) -> DecodedWrite:
        """Decode and append ``body``; raises ``RemoteWriteError`` before writing anything."""
        commit = self._group_commit(metrics)
        commit.arrive()
        try:
            with self._decode_lock:
                decoded = self.decoder.decode(body)
        except BaseException:
            commit.leave()
            raise
        if not decoded.samples:
            commit.leave()
            return decoded
        commit.submit(decoded.table, decoded.labels)
        return decoded

    def commits(self) -> int:
        """Appends made so far into the current store (one per group commit)."""
        with self._decode_lock:
            return 0 if self._commit is None else self._commit[1].commits

    def _group_commit(self, metrics: MetricsStore) -> GroupCommit:
        """The group commit of ``metrics`` (a new runtime brings a new store)."""
        with self._decode_lock:
            if self._commit is None or self._commit[0] is not metrics:
                self._commit = (metrics, GroupCommit(metrics.append_batch))
            return self._commit[1]

    @staticmethod
    def collected_event(decoded: DecodedWrite) -> MetricsCollected | None:
        """The newest point of each series of ``decoded`` as one ``MetricsCollected``.

        The points are built without pydantic validation (:func:`trusted_point`): the decoder
        already made every field valid, and validating a few thousand points per request cost
        more than storing them.
        """
        newest = decoded.newest
        if not newest:
            return None
        labels = decoded.labels
        from_timestamp = datetime.fromtimestamp
        points = tuple(
            trusted_point(key, from_timestamp(stamp / 1000.0, UTC), value, labels.get(key, {}))
            for key, (stamp, value) in newest.items()
        )
        last = from_timestamp(max(stamp for stamp, _ in newest.values()) / 1000.0, UTC)
        return MetricsCollected(ts=last, source=SOURCE, points=points)

    def store_for_scoring(
        self, body: bytes, metrics: MetricsStore
    ) -> tuple[DecodedWrite, MetricsCollected | None]:
        """:meth:`store`, then the event for scoring: both in the caller's worker thread,
        so building thousands of points never holds up the event loop."""
        decoded = self.store(body, metrics)
        return decoded, self.collected_event(decoded)
