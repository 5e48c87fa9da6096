"""A Predictive agent for one partition of the series, with its state checkpointed.

``selfheal-ml agent run Predictive --partition K/N`` runs this agent: it scores only the series
whose hash falls in partition ``K`` of ``N`` (:class:`PartitionFilter`, the same CRC-32 as
``scoring.shards``), reads the metric stream in a consumer group of its own partition, and after
each round saves its detector bank (:mod:`selfheal_ml.scoring.checkpoint`) before the bus
acknowledges the round. Restarted, it resumes from the checkpoint: warm, with no acknowledged
point lost; a redelivered round is refused point by point by the bank (no newer than the last).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.predictive import PredictiveAgent
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import Event, MetricsCollected
from selfheal_ml.scoring import ShardedBank, shard_of
from selfheal_ml.scoring.checkpoint import Checkpoint


@dataclass(frozen=True)
class PartitionFilter:
    """Whether a series belongs to partition ``index`` of ``count``.

    >>> owners = [PartitionFilter(k, 2)("api.latency_ms") for k in range(2)]
    >>> owners.count(True)
    1
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"partition: expected 0 <= K < N, got {self.index}/{self.count}")

    def __call__(self, series: str) -> bool:
        return shard_of(series, self.count) == self.index


class CheckpointedPredictiveAgent(PredictiveAgent):
    """:class:`PredictiveAgent` that resumes from, and saves to, a checkpoint."""

    name: ClassVar[str] = "Predictive"

    def __init__(self, context: AgentContext, checkpoint: Checkpoint) -> None:
        super().__init__(context)
        self.checkpoint = checkpoint
        self.resumed = False

    async def start(self) -> None:
        blob = await self.checkpoint.load()
        restored = ShardedBank.from_snapshot(blob, self.workers, self.local_share) if blob else None
        if restored is None:
            await super().start()
            return
        self.bank.close()
        self.bank = restored
        self.resumed = True
        self.log.info("resumed %d series from the checkpoint", len(restored.series()))

    async def stop(self) -> None:
        await super().stop()
        await self.checkpoint.close()

    async def handle(self, event: Event) -> list[Event]:
        produced = await super().handle(event)
        if isinstance(event, MetricsCollected):
            blob = await run_blocking(self.context.clock, self.bank.snapshot)
            await self.checkpoint.save(blob)
        return produced
