"""Scoring a collection round and writing what it scored, with the right thread hops.

The Predictive agent's round (:mod:`~selfheal_ml.agents.round_scoring` does the CPU work) is
written to DuckDB either at once (the live service: ``store_every_s`` 0) or in batches
(virtual-time replays). Written at once, a round of at most :data:`INLINE_ROUND_POINTS` points
(and no scoring workers) is scored on the event loop and only its write goes to a worker
thread; a larger one is scored and written in one hop. In batches, the scores queue in the
:class:`~selfheal_ml.agents.batching.BatchWriter` and only the anomalies are written at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.agents.round_scoring import anomalies, score_and_store, score_round, store_round
from selfheal_ml.clock import Clock, run_blocking
from selfheal_ml.events import AnomalyDetected, MetricPoint
from selfheal_ml.scoring import ShardedBank
from selfheal_ml.storage.anomalies import AnomalyStore, ScoreRow

INLINE_ROUND_POINTS = 256
"""A round of at most this many points (and no scoring workers) is scored on the event loop,
only its write going to a worker thread: 2-10 ms of CPU at 150 points, and the thread hop cost
that round 10-20 % more CPU than the scoring itself (``docs/benchmarks.md``, issue 20)."""


@dataclass
class RoundWriter:
    """Scores rounds with a bank and writes them to ``store`` (none: scored only)."""

    store: AnomalyStore | None
    writer: BatchWriter[ScoreRow] | None
    workers: int
    clock: Clock
    log: logging.Logger
    source: str

    async def score(
        self, bank: ShardedBank, points: Sequence[MetricPoint], ts: datetime
    ) -> tuple[list[AnomalyDetected], int, int]:
        """Score and write one round; its anomalies, rows scored and anomalies raised."""
        writer, store, clock = self.writer, self.store, self.clock
        at_once = writer is not None and writer.every_s == 0.0 and not writer.pending
        if writer is not None and store is not None and at_once:
            if self.workers == 0 and len(points) <= INLINE_ROUND_POINTS:
                flagged, rows = score_round(bank, points, self.log)
                result = await run_blocking(clock, store_round, store, flagged, rows, self.source)
            else:
                result = await run_blocking(
                    clock, score_and_store, bank, store, points, self.log, self.source
                )
            writer.last_written = ts
            return result
        flagged, rows = await run_blocking(clock, score_round, bank, points, self.log)
        produced, records = anomalies(flagged, self.source)
        if writer is not None and store is not None:
            store.note_latest(rows)
            await writer.add(rows, ts)
            if records:
                await run_blocking(clock, store.record_anomalies, records)
        return produced, len(rows), len(records)
