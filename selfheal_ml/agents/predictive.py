"""The Predictive agent: scores every metric point online and raises anomalies.

On ``MetricsCollected`` it scores each point with the per-series detector bank (score first, then
learn; flagged points are not learned), writes every score to DuckDB and emits ``AnomalyDetected``
with an explanation (value, expected range, calibrated score, component). On start it re-warms the
bank: from a snapshot if one of the current version is cached, else from the stored metric history
(the history is the truth; the snapshot only a cache). History only warms: it is learned without
verdicts, and the alert policy starts afresh after it, so only points observed after the start
raise (or suppress) an anomaly. A series with too little history for its detector (a fresh service,
a new target, a renamed metric) is covered by the scorer's cold-start stage and needs a margin
above the threshold while young (``SCORING``): without them a fresh service scoring every 5 s was
blind for 25 minutes (every 60 s, five hours), and an hour-old one alarmed on noise. On stop it
saves a snapshot. On ``Tick(forecast)`` (hourly by default) it forecasts every selected series and
caches the forecasts (``ForecastProduced``); on ``Tick(capacity)`` it checks resource series for
credible breaches of their limits (``BreachPredicted``); see ``forecasting.py``.

Ports (``AgentContext.extras``): ``detector_bank`` (a ``DetectorBank``; a default one if
absent), ``scoring_workers`` (processes that score a share of the series beside this one, see
``scoring.shards``; 0 by default), ``anomaly_store`` (``AnomalyStore``), ``score_filter``
(which series to score; all by default), ``rewarm_s`` (history to replay, default 24 h),
``store_every_s`` (see BatchWriter), ``forecast_store`` (``ForecastStore``) and
``forecast_filter`` (series to forecast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.agents.forecasting import ForecastRound
from selfheal_ml.anomaly import SNAPSHOT_VERSION, DetectorBank, PointScore, ScoringConfig
from selfheal_ml.anomaly.bank import epoch_seconds
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import AnomalyDetected, Event, MetricPoint, MetricsCollected, Tick
from selfheal_ml.scoring import Rejected, RoundPoint, ShardedBank
from selfheal_ml.storage.anomalies import AnomalyRecord, AnomalyStore, ScoreRow

SNAPSHOT_NAME = "predictive-bank"
SCORING = ScoringConfig(cold_start_points=300, young_points=2000)
"""The default bank's stages: the cold-start stage scores until the default ensemble's
300-point warm-up (``NewExtreme``, ``SequenceSurprise``) is over, and a series' alerts need a
margin above the threshold until it has 2000 points (history included; the demo's series start
with 2880, so it costs them nothing)."""


def _explain(point: MetricPoint, verdict: PointScore) -> str:
    low = "-inf" if verdict.expected_low is None else f"{verdict.expected_low:.4g}"
    high = "inf" if verdict.expected_high is None else f"{verdict.expected_high:.4g}"
    return (
        f"{point.series} = {point.value:.4g}, expected [{low}, {high}];"
        f" calibrated score {verdict.calibrated:.2f} ({verdict.component})"
    )


class PredictiveAgent(Agent):
    """Online anomaly detection over every collected metric."""

    name: ClassVar[str] = "Predictive"
    subscriptions: ClassVar[tuple[Selector, ...]] = (MetricsCollected, Tick)

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.workers = int(extras.get("scoring_workers", 0))
        local = extras.get("detector_bank") or DetectorBank(config=SCORING)
        self.bank = ShardedBank(self.workers, local=local)
        self.store: AnomalyStore | None = extras.get("anomaly_store")
        self.score_filter: Callable[[str], bool] = extras.get("score_filter") or (lambda _: True)
        self.rewarm_s = float(extras.get("rewarm_s", 24 * 3600.0))
        self.writer: BatchWriter[ScoreRow] | None = None
        if self.store is not None:
            every_s = float(extras.get("store_every_s", 0.0))
            self.writer = BatchWriter(self.store.append_score_rows, context.clock, every_s)
        self.scored = 0
        self.anomalies = 0
        self.forecasting: ForecastRound | None = None
        if extras.get("forecast_store") is not None and context.metrics is not None:
            self.forecasting = ForecastRound(
                context.metrics,
                extras["forecast_store"],
                context.thresholds,
                select=extras.get("forecast_filter") or (lambda _: True),
            )

    async def start(self) -> None:
        # a share without a live worker (first start, after stop, a crashed worker) is empty
        missing_share = self.bank.revive()
        if self.store is not None and (missing_share or not self.bank.series()):
            await run_blocking(self.context.clock, self._rewarm)

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.flush()
        if self.store is not None and self.bank.series():
            blob = self.bank.snapshot()
            now = self.context.clock.now()
            await run_blocking(
                self.context.clock,
                self.store.save_snapshot,
                SNAPSHOT_NAME,
                SNAPSHOT_VERSION,
                now,
                blob,
            )
        self.bank.close()

    def _rewarm(self) -> None:
        assert self.store is not None
        cached = self.store.load_snapshot(SNAPSHOT_NAME)
        if cached is not None and cached[0] == SNAPSHOT_VERSION:
            restored = ShardedBank.from_snapshot(cached[1], self.workers)
            if restored is not None:
                self.bank.close()
                self.bank = restored
                return
        metrics = self.context.metrics
        if metrics is None:
            return
        now = self.context.clock.now()
        series = [s for s in metrics.catalogue()["series"] if self.score_filter(s)]
        history = metrics.window_many(series, now - timedelta(seconds=self.rewarm_s), now)
        # naive UTC datetime64: converted in bulk (aware ones arrive as Python objects)
        self.bank.replay_many(
            {
                name: (frame["value"].to_numpy(), frame["ts"].dt.tz_localize(None).to_numpy())
                for name, frame in history.items()
                if len(frame)
            }
        )

    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, Tick):
            return await self._scheduled(event)
        if not isinstance(event, MetricsCollected):
            return []
        score_filter = self.score_filter
        points = [point for point in event.points if score_filter(point.series)]
        flagged, rows = await run_blocking(self.context.clock, self._score, points)
        produced: list[Event] = []
        records: list[AnomalyRecord] = []
        for point, verdict in flagged:
            anomaly = self._anomaly(point, verdict)
            produced.append(anomaly)
            records.append(self._record(anomaly, verdict))
        if self.writer is not None and self.store is not None:
            await self.writer.add(rows, event.ts)
            if records:
                await run_blocking(self.context.clock, self.store.record_anomalies, records)
        self.scored += len(rows)
        self.anomalies += len(records)
        return produced

    async def _scheduled(self, tick: Tick) -> list[Event]:
        if self.forecasting is None:
            return []
        if tick.kind == "forecast":
            return list(
                await run_blocking(self.context.clock, self.forecasting.forecast_all, tick.ts)
            )
        if tick.kind == "capacity":
            return list(
                await run_blocking(self.context.clock, self.forecasting.check_capacity, tick.ts)
            )
        return []

    def _score(
        self, points: Sequence[MetricPoint]
    ) -> tuple[list[tuple[MetricPoint, PointScore]], list[ScoreRow]]:
        """Score a round; returns the anomalous points with their verdicts and every score row.

        The hot loop of the agent (every point of every round): the epoch seconds of a round's
        shared timestamp are computed once, the bank scores the round across its shards, and a
        row is a plain tuple.
        """
        seconds: dict[datetime, float] = {}
        round_points: list[RoundPoint] = []
        for point in points:
            ts_s = seconds.get(point.ts)
            if ts_s is None:
                ts_s = seconds[point.ts] = epoch_seconds(point.ts)
            round_points.append((point.series, ts_s, point.value))
        flagged: list[tuple[MetricPoint, PointScore]] = []
        rows: list[ScoreRow] = []
        for point, verdict in zip(points, self.bank.score_round(round_points), strict=True):
            if isinstance(verdict, Rejected):  # a late or non-finite point: skipped, not learned
                self.log.debug("skipped %s: %s", point.series, verdict.reason)
                continue
            if verdict.is_anomaly:
                flagged.append((point, verdict))
            rows.append(
                (point.series, point.ts, point.value, verdict.score, verdict.calibrated,
                 verdict.is_anomaly, verdict.expected_low, verdict.expected_high)
            )  # fmt: skip
        return flagged, rows

    def _anomaly(self, point: MetricPoint, verdict: PointScore) -> AnomalyDetected:
        return AnomalyDetected(
            ts=point.ts,
            source=self.name,
            series=point.series,
            value=point.value,
            score=verdict.calibrated,
            expected_low=_finite_or(verdict.expected_low, float("-1e308")),
            expected_high=_finite_or(verdict.expected_high, float("1e308")),
            detector=verdict.component,
            labels=dict(point.labels),
            explanation=_explain(point, verdict),
        )

    @staticmethod
    def _record(anomaly: AnomalyDetected, verdict: PointScore) -> AnomalyRecord:
        return AnomalyRecord(
            event_id=anomaly.event_id,
            series=anomaly.series,
            ts=anomaly.ts,
            value=anomaly.value,
            calibrated=verdict.calibrated,
            expected_low=verdict.expected_low,
            expected_high=verdict.expected_high,
            component=verdict.component,
            correlation_id=anomaly.correlation_id,
        )


def _finite_or(value: float | None, default: float) -> float:
    return default if value is None else value
