"""Partitioned, checkpointed scoring: each series belongs to one partition; a scorer saves its
bank after every round and a new one resumes from it warm; a round delivered again after a
crash is not learned twice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.checkpointed_scoring import CheckpointedPredictiveAgent, PartitionFilter
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import MetricPoint, MetricsCollected
from selfheal_ml.scoring.checkpoint import MemoryCheckpoint

SERIES = [f'http_latency_p95_ms{{platform="p{index}"}}' for index in range(12)]


@given(series=st.text(min_size=1, max_size=40), count=st.integers(1, 8))
def test_every_series_belongs_to_exactly_one_partition(series: str, count: int) -> None:
    owners = [index for index in range(count) if PartitionFilter(index, count)(series)]
    assert len(owners) == 1


def _round(clock: SimClock, step: int) -> MetricsCollected:
    points = tuple(
        MetricPoint(series=name, ts=clock.now(), value=100.0 + (step + index) % 7)
        for index, name in enumerate(SERIES)
    )
    return MetricsCollected(ts=clock.now(), source="test", points=points)


def _scorer(clock: SimClock, checkpoint: MemoryCheckpoint) -> CheckpointedPredictiveAgent:
    context = AgentContext(
        bus=InMemoryEventBus(), clock=clock, extras={"score_filter": PartitionFilter(0, 2)}
    )
    return CheckpointedPredictiveAgent(context, checkpoint)


async def test_a_new_scorer_resumes_from_the_checkpoint(sim_clock: SimClock) -> None:
    checkpoint = MemoryCheckpoint()
    first = _scorer(sim_clock, checkpoint)
    await first.start()
    assert not first.resumed
    rounds = []
    for step in range(30):
        sim_clock.advance(5)
        rounds.append(_round(sim_clock, step))
        await first.handle(rounds[-1])
    assert checkpoint.saves == 30
    mine = sorted(name for name in SERIES if PartitionFilter(0, 2)(name))
    assert first.bank.series() == mine  # only its partition
    # killed without stop(); a new process resumes from the last save
    second = _scorer(sim_clock, checkpoint)
    await second.start()
    assert second.resumed and second.bank.series() == mine
    learned = second.bank.merged().scorers(mine)
    assert {scorer.last_ts_s for scorer in learned.values()} == {sim_clock.now().timestamp()}
    # the last round comes back (it was never acknowledged): refused, nothing learned twice
    await second.handle(rounds[-1])
    assert second.scored == 0
    sim_clock.advance(5)
    await second.handle(_round(sim_clock, 30))
    assert second.scored == len(mine)
