"""The Predictive agent: scores every metric point online and raises anomalies.

On ``MetricsCollected`` it scores each point with the per-series detector bank (score first, then
learn; flagged points are not learned; :mod:`~selfheal_ml.agents.round_scoring`, written by
:mod:`~selfheal_ml.agents.round_writing`), writes every score to DuckDB and emits
``AnomalyDetected`` with an explanation (value, expected range, calibrated score, component);
a warning on a per-request or user-activity series needs a second flagged point or a second
series of its platform (:class:`~selfheal_ml.anomaly.alert_policy.Corroboration`), else it is
recorded as ``info``; one that a running repair's announced side effect explains
(``DisturbanceExpected``) is inhibited, held as ``info`` with the repair named. On
start it re-warms the bank from a cached snapshot or the stored metric history
(``BankWarmup``); on stop it caches a snapshot. A young series is scored by the cold-start
stage and needs a margin above the threshold (``SCORING``): without them a fresh service was
blind for 25 minutes at 5 s checks, and an hour-old one alarmed on noise. ``Tick(forecast)``
forecasts the selected series (``ForecastProduced``), ``Tick(capacity)`` checks resource series
for credible breaches of their limits (``BreachPredicted``; ``forecasting.py``, fits in a child
process in real time), and at most once a minute the leak watch tests each host memory series
for a ramp its platform's traffic does not explain (``leak_watch.py``).

Ports (``AgentContext.extras``): ``detector_bank`` (default: a new ``DetectorBank``),
``scoring_workers`` (processes scoring a share of the series, ``scoring.shards``; 0),
``scoring_local_share`` (this process' share; equal by default), ``anomaly_store``,
``score_filter`` (series to score; all), ``rewarm_s`` (history replayed, 24 h),
``store_every_s`` (see BatchWriter), ``forecast_store`` and ``forecast_filter``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from selfheal_ml.agents.bank_warmup import BankWarmup
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.agents.forecasting import ForecastRound
from selfheal_ml.agents.leak_watch import LeakWatch
from selfheal_ml.agents.round_writing import RoundWriter
from selfheal_ml.anomaly import DetectorBank, ScoringConfig
from selfheal_ml.anomaly.alert_policy import Corroboration
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import (
    BreachPredicted,
    DisturbanceExpected,
    Event,
    MetricPoint,
    MetricsCollected,
    Tick,
)
from selfheal_ml.repair.side_effects import DisturbanceBook
from selfheal_ml.scoring import ShardedBank
from selfheal_ml.storage.anomalies import AnomalyStore, ScoreRow

SCORING = ScoringConfig(cold_start_points=300, young_points=2000)
"""The default bank's stages: the cold-start stage scores until the default ensemble's
300-point warm-up (``NewExtreme``, ``SequenceSurprise``) is over, and a series' alerts need a
margin above the threshold until it has 2000 points (history included; the demo's series start
with 2880, so it costs them nothing)."""


class PredictiveAgent(Agent):
    """Online anomaly detection over every collected metric."""

    name: ClassVar[str] = "Predictive"
    subscriptions: ClassVar[tuple[Selector, ...]] = (MetricsCollected, Tick, DisturbanceExpected)

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.workers = int(extras.get("scoring_workers", 0))
        share = extras.get("scoring_local_share")
        self.local_share = None if share is None else float(share)
        local = extras.get("detector_bank") or DetectorBank(config=SCORING)
        self.bank = ShardedBank(self.workers, local=local, local_share=self.local_share)
        self.store: AnomalyStore | None = extras.get("anomaly_store")
        self.score_filter: Callable[[str], bool] = extras.get("score_filter") or (lambda _: True)
        self.filtered = extras.get("score_filter") is not None  # else every point is scored
        self.rewarm_s = float(extras.get("rewarm_s", 24 * 3600.0))
        self.writer: BatchWriter[ScoreRow] | None = None
        self.warmup: BankWarmup | None = None
        if self.store is not None:
            every_s = float(extras.get("store_every_s", 0.0))
            self.writer = BatchWriter(self.store.append_score_rows, context.clock, every_s)
            self.warmup = BankWarmup(
                self.store, context.metrics, context.clock, self.score_filter, self.rewarm_s,
                self.workers, self.local_share,
            )  # fmt: skip
        self.rounds = RoundWriter(
            self.store, self.writer, self.workers, context.clock, self.log, self.name
        )
        self.scored = 0
        self.anomalies = 0
        self.corroboration = Corroboration()
        self.disturbances = DisturbanceBook()  # running repairs' known side effects
        self.forecasting = ForecastRound.of(context)
        self.leaks = LeakWatch.all_of(context)

    async def start(self) -> None:
        # a share without a live worker (first start, after stop, a crashed worker) is empty
        missing_share = self.bank.revive()
        if self.warmup is not None and (missing_share or not self.bank.series()):
            self.bank = await run_blocking(self.context.clock, self.warmup.warm, self.bank)

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.flush()
        if self.warmup is not None and self.bank.series():
            # pickling 20,000 series' state takes seconds: not on the event loop
            blob = await run_blocking(self.context.clock, self.bank.snapshot)
            await run_blocking(self.context.clock, self.warmup.save, blob, self.context.clock.now())
        self.bank.close()

    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, Tick):
            return await self._scheduled(event)
        if isinstance(event, DisturbanceExpected):
            self.disturbances.note(event)
            return []
        if not isinstance(event, MetricsCollected):
            return []
        if self.forecasting is not None and self.forecasting.leak_window_s > 0:
            self.forecasting.recent.observe(event.points)
        points: Sequence[MetricPoint] = event.points
        if self.filtered:
            points = [point for point in points if self.score_filter(point.series)]
        produced, scored, raised = await self.rounds.score(self.bank, points, event.ts)
        self.scored += scored
        self.anomalies += raised
        review = self.disturbances.review_anomaly
        reviewed = [review(anomaly) for anomaly in self.corroboration.review(produced)]
        return [*reviewed, *await self._leaks(event)]

    async def _leaks(self, event: MetricsCollected) -> list[BreachPredicted]:
        """The leak watches' predictions of the round (memory, disk); a failing watch is logged
        and skipped, it never costs the round's scoring."""
        found: list[BreachPredicted] = []
        for watch in self.leaks:
            try:
                watch.observe(event.points)
                found += await run_blocking(self.context.clock, watch.check, event.ts)
            except Exception:
                self.log.exception(
                    "%s watch failed on the round of %s", watch.resource.metric, event.ts
                )
        return found

    async def _scheduled(self, tick: Tick) -> list[Event]:
        if self.forecasting is None:
            return []
        return list(
            await run_blocking(self.context.clock, self.forecasting.on_tick, tick.kind, tick.ts)
        )
