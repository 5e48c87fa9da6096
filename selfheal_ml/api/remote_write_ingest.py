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

Counts (requests by outcome, samples stored, samples dropped as non-finite) feed ``/metrics``.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from selfheal_ml.bus.base import EventBus
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


class RemoteWriteIngest:
    """Decode, store, hand to scoring (see the module doc)."""

    def __init__(self, decoder: RemoteWriteDecoder, counters: RemoteWriteCounters) -> None:
        self.decoder = decoder
        self.counters = counters
        self._decode_lock = threading.Lock()  # the decoder's key cache is not thread-safe

    def store(self, body: bytes, metrics: MetricsStore) -> DecodedWrite:
        """Decode and append ``body``; raises ``RemoteWriteError`` before writing anything."""
        with self._decode_lock:
            decoded = self.decoder.decode(body)
        if decoded.samples:
            metrics.append_batch(decoded.table, decoded.labels)
        return decoded

    @staticmethod
    def collected_event(decoded: DecodedWrite) -> MetricsCollected | None:
        """The newest point of each series of ``decoded`` as one ``MetricsCollected``."""
        if not decoded.samples:
            return None
        table = decoded.table
        newest: dict[str, tuple[int, float]] = {}
        series = table.column("series").to_pylist()
        stamps = table.column("ts").cast("int64").to_pylist()
        values = table.column("value").to_pylist()
        for key, stamp, value in zip(series, stamps, values, strict=True):
            held = newest.get(key)
            if held is None or stamp >= held[0]:
                newest[key] = (stamp, value)
        points = tuple(
            MetricPoint.model_construct(
                series=key,
                ts=datetime.fromtimestamp(stamp / 1000.0, UTC),
                value=value,
                labels=dict(decoded.labels.get(key, {})),
            )
            for key, (stamp, value) in newest.items()
        )
        last = max(point.ts for point in points)
        return MetricsCollected(ts=last, source=SOURCE, points=points)

    async def publish(self, decoded: DecodedWrite, bus: EventBus) -> None:
        """Publish :meth:`collected_event` of ``decoded`` (nothing for an empty body)."""
        event = self.collected_event(decoded)
        if event is not None:
            await bus.publish(event)
