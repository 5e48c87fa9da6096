"""The Security agent's attack-rate series, stored and announced like the platforms' own.

:class:`~selfheal_ml.security.attack_rates.AttackRates` counts each window (failed logins, 4xx
and requests per second, confirmed findings, bans in force); when a window closes its points
are written with the metrics (through a :class:`~selfheal_ml.agents.batching.BatchWriter`,
every ``store_every_s`` as the Monitor writes) and published as ``MetricsCollected``, so the
Predictive agent scores them and warns when an attack pattern comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.events import Event, MetricPoint, MetricsCollected
from selfheal_ml.security.attack_rates import AttackRates
from selfheal_ml.security.records import LogRecord


class AttackRateSeries:
    """Counts records per window; stores and announces each closed window's points."""

    def __init__(self, context: AgentContext, source: str) -> None:
        extras = context.extras
        self.source = source
        self.rates = AttackRates(
            context.clock.now(), float(extras.get("security_rates_window_s", 60.0))
        )
        self.writer: BatchWriter[MetricPoint] | None = None
        if context.metrics is not None:
            every_s = float(extras.get("store_every_s", 0.0))
            self.writer = BatchWriter(context.metrics.append_points, context.clock, every_s)

    def add(self, records: Sequence[LogRecord], confirmed: int) -> None:
        """Count ``records`` and ``confirmed`` attack findings in the open window."""
        self.rates.add(records, confirmed)

    async def close(self, now: datetime, bans_in_force: int) -> list[Event]:
        """The points of a window that has just closed, stored and announced (none if no
        window closed)."""
        points = self.rates.close(now, bans_in_force)
        if not points:
            return []
        if self.writer is not None:
            await self.writer.add(points, now)
        return [MetricsCollected(ts=now, source=self.source, points=tuple(points))]

    async def flush(self) -> None:
        """Write what the writer still holds (on stop)."""
        if self.writer is not None:
            await self.writer.flush()
