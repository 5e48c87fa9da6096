"""The Predictive agent: scores every metric point online and raises anomalies.

On ``MetricsCollected`` it scores each point with the per-series detector bank (score first, then
learn; flagged points are not learned; :mod:`~selfheal_ml.agents.round_scoring`; a small round on
the event loop, a large one in a worker thread), writes every score to DuckDB and emits
``AnomalyDetected`` with an explanation (value, expected range, calibrated score, component);
a warning on a per-request or user-activity series needs a second flagged point or a second
series of its platform (:class:`~selfheal_ml.anomaly.alert_policy.Corroboration`), else it is
recorded as ``info``; one that a running repair's announced side effect explains
(``DisturbanceExpected``) is inhibited, held as ``info`` with the repair named. On
start it re-warms the bank from a cached snapshot or the stored metric history
(:class:`~selfheal_ml.agents.bank_warmup.BankWarmup`); on stop it caches a snapshot. A series with
too little history for its detector (a fresh service, a new target, a renamed metric) is covered by
the scorer's cold-start stage and needs a margin above the threshold while young (``SCORING``):
without them a fresh service scoring every 5 s was blind for 25 minutes (every 60 s, five hours),
and an hour-old one alarmed on noise. On ``Tick(forecast)`` (hourly by default) it forecasts every
selected series and caches the forecasts (``ForecastProduced``); on ``Tick(capacity)`` it checks
resource series for credible breaches of their limits (``BreachPredicted``); see ``forecasting.py``
(in real time, a round's fits run in a child process: ``forecast_fitting.py``).
On every ``MetricsCollected`` (at most once a minute) the leak watch tests each host memory
series for a ramp its platform's traffic does not explain and predicts its breach
(``BreachPredicted``; ``leak_watch.py``).

Ports (``AgentContext.extras``): ``detector_bank`` (a ``DetectorBank``; a default one if
absent), ``scoring_workers`` (processes that score a share of the series beside this one, see
``scoring.shards``; 0 by default), ``scoring_local_share`` (the share of the series scored in
this process when there are workers; an equal share by default), ``anomaly_store``
(``AnomalyStore``), ``score_filter`` (which series to score; all by default), ``rewarm_s``
(history to replay, default 24 h),
``store_every_s`` (see BatchWriter), ``forecast_store`` (``ForecastStore``) and
``forecast_filter`` (series to forecast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from selfheal_ml.agents.bank_warmup import BankWarmup
from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.agents.forecasting import ForecastRound
from selfheal_ml.agents.leak_watch import LeakWatch
from selfheal_ml.agents.round_scoring import Flagged, anomalies, score_round
from selfheal_ml.anomaly import DetectorBank, ScoringConfig
from selfheal_ml.anomaly.alert_policy import Corroboration
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import (
    AnomalyDetected,
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

INLINE_ROUND_POINTS = 256
"""A round of at most this many points (and no scoring workers) is scored on the event loop,
only its write going to a worker thread: 2-10 ms of CPU at 150 points, and the thread hop cost
that round 10-20 % more CPU than the scoring itself (``docs/benchmarks.md``, issue 20)."""

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
        self.scored = 0
        self.anomalies = 0
        self.corroboration = Corroboration()
        self.disturbances = DisturbanceBook()  # running repairs' known side effects
        self.forecasting = ForecastRound.of(context)
        self.leaks = LeakWatch.of(context)

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
        score_filter = self.score_filter
        points: Sequence[MetricPoint] = event.points
        if self.filtered:
            points = [point for point in points if score_filter(point.series)]
        writer = self.writer
        clock = self.context.clock
        if writer is not None and writer.every_s == 0.0 and not writer.pending:
            # rows written at once: one worker-thread hop, with the scoring if it is large
            if self.workers == 0 and len(points) <= INLINE_ROUND_POINTS:
                flagged, rows = score_round(self.bank, points, self.log)
                produced, scored, raised = await run_blocking(clock, self._store, flagged, rows)
            else:
                produced, scored, raised = await run_blocking(clock, self._round, points)
            writer.last_written = event.ts
        else:
            flagged, rows = await run_blocking(clock, score_round, self.bank, points, self.log)
            produced, records = anomalies(flagged, self.name)
            if writer is not None and self.store is not None:
                self.store.note_latest(rows)
                await writer.add(rows, event.ts)
                if records:
                    await run_blocking(clock, self.store.record_anomalies, records)
            scored, raised = len(rows), len(records)
        self.scored += scored
        self.anomalies += raised
        review = self.disturbances.review_anomaly
        reviewed = [review(anomaly) for anomaly in self.corroboration.review(produced)]
        return [*reviewed, *await self._leaks(event)]

    async def _leaks(self, event: MetricsCollected) -> list[BreachPredicted]:
        """The leak watch's predictions of the round; a failing watch is logged and skipped,
        it never costs the round's scoring."""
        if self.leaks is None:
            return []
        try:
            self.leaks.observe(event.points)
            return await run_blocking(self.context.clock, self.leaks.check, event.ts)
        except Exception:
            self.log.exception("leak watch failed on the round of %s", event.ts)
            return []

    def _round(self, points: Sequence[MetricPoint]) -> tuple[list[AnomalyDetected], int, int]:
        """Score a round, store its rows and anomalies; the events, rows and anomalies."""
        return self._store(*score_round(self.bank, points, self.log))

    def _store(
        self, flagged: Flagged, rows: list[ScoreRow]
    ) -> tuple[list[AnomalyDetected], int, int]:
        """Store a scored round's rows and anomalies; the events, rows and anomalies."""
        assert self.store is not None  # a writer implies a store
        produced, records = anomalies(flagged, self.name)
        self.store.note_latest(rows)
        self.store.append_score_rows(rows)
        if records:
            self.store.record_anomalies(records)
        return produced, len(rows), len(records)

    async def _scheduled(self, tick: Tick) -> list[Event]:
        if self.forecasting is None:
            return []
        clock = self.context.clock
        return list(await run_blocking(clock, self.forecasting.on_tick, tick.kind, tick.ts))
