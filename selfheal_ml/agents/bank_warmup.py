"""Re-warming the Predictive agent's detector bank on start, and caching it on stop.

:meth:`BankWarmup.warm` restores the bank from a snapshot when one of the current
:data:`~selfheal_ml.anomaly.SNAPSHOT_VERSION` is cached; otherwise it replays the stored metric
history of the last ``rewarm_s`` (the history is the truth, the snapshot only a cache). History
only warms: it is learned without verdicts, and the alert policy starts afresh after it, so
only points observed after the start raise (or suppress) an anomaly. :meth:`BankWarmup.save`
caches a snapshot. Both read or write DuckDB: call them off the event loop (``run_blocking``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.anomaly import SNAPSHOT_VERSION
from selfheal_ml.clock import Clock
from selfheal_ml.scoring import ShardedBank
from selfheal_ml.storage.anomalies import AnomalyStore

SNAPSHOT_NAME = "predictive-bank"


@dataclass
class BankWarmup:
    """Restores or replays a :class:`ShardedBank` from the stores (see the module docstring)."""

    store: AnomalyStore
    metrics: Any  # storage.metrics.MetricsStore, or None: no history to replay
    clock: Clock
    score_filter: Callable[[str], bool]
    rewarm_s: float
    workers: int
    local_share: float | None = None

    def warm(self, bank: ShardedBank) -> ShardedBank:
        """The warmed bank: a restored snapshot (``bank`` closed) or ``bank`` after replay."""
        cached = self.store.load_snapshot(SNAPSHOT_NAME)
        if cached is not None and cached[0] == SNAPSHOT_VERSION:
            restored = ShardedBank.from_snapshot(cached[1], self.workers, self.local_share)
            if restored is not None:
                bank.close()
                return restored
        if self.metrics is None:
            return bank
        now = self.clock.now()
        series = [s for s in self.metrics.catalogue()["series"] if self.score_filter(s)]
        history = self.metrics.window_many(series, now - timedelta(seconds=self.rewarm_s), now)
        # naive UTC datetime64: converted in bulk (aware ones arrive as Python objects)
        bank.replay_many(
            {
                name: (frame["value"].to_numpy(), frame["ts"].dt.tz_localize(None).to_numpy())
                for name, frame in history.items()
                if len(frame)
            }
        )
        return bank

    def save(self, blob: bytes, now: datetime) -> None:
        """Cache a snapshot of the bank (``ShardedBank.snapshot()``) taken at ``now``."""
        self.store.save_snapshot(SNAPSHOT_NAME, SNAPSHOT_VERSION, now, blob)
