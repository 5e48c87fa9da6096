"""The Monitor agent: collects metrics every health-check interval and reports health.

On each ``Tick(health)`` it runs every collector concurrently (each under its own timeout, so
one slow target never holds up the others), stores the points in the MetricsStore in one
batch, publishes ``MetricsCollected``, evaluates the seed's threshold rules (firing and
clearing ``AlertRaised`` events for the AlertManager) and publishes one ``HealthChecked`` per
platform, rolled up to healthy / degraded / down. An alert that a running repair's announced
side effect explains (``DisturbanceExpected``, :mod:`selfheal_ml.repair.side_effects`) fires
inhibited: a record, not a page.

Ports (from ``AgentContext.extras``): ``collectors`` (a list of collectors), ``platforms``
(names to report health for even before they send data), ``collection_timeout_s``,
``alert_resend_s`` (how often a condition that keeps holding is re-sent, default 60 s),
``store_every_s`` (0, the default: every round is written at once; virtual-time replays set it
higher to write fewer, larger batches), ``collection_concurrency`` (collectors running at
once, default 64) and ``max_series_per_target`` (a
:class:`~selfheal_ml.collectors.series_budget.SeriesBudget`: series past it are dropped and
counted; default 5,000).

Back-pressure: a tick stamped after the previous round's tick but before that round ended was
emitted while the round was still running (it overran its interval); it is coalesced into the
next tick, not run late, so an overrunning round never builds a queue of stale rounds
(``coalesced`` counts them).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.batching import BatchWriter
from selfheal_ml.clock import run_blocking
from selfheal_ml.collectors.base import (
    DEFAULT_COLLECTION_CONCURRENCY,
    CollectionResult,
    Collector,
    collect_all,
)
from selfheal_ml.collectors.series_budget import SeriesBudget
from selfheal_ml.events import (
    AlertRaised,
    DisturbanceExpected,
    Event,
    MetricPoint,
    MetricsCollected,
    Tick,
)
from selfheal_ml.monitoring import Changes, ThresholdLimits, ThresholdTracker, evaluate_thresholds
from selfheal_ml.monitoring.round_events import round_events
from selfheal_ml.repair.side_effects import DisturbanceBook


class MonitorAgent(Agent):
    """Collects, stores and judges one round of metrics per health-check tick."""

    name: ClassVar[str] = "Monitor"
    subscriptions: ClassVar[tuple[Selector, ...]] = (Tick, DisturbanceExpected)

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        self.collectors: list[Collector] = list(context.extras.get("collectors", []))
        self.platforms: set[str] = set(context.extras.get("platforms", []))
        self.timeout_s = float(context.extras.get("collection_timeout_s", 5.0))
        self.concurrency = int(
            context.extras.get("collection_concurrency", DEFAULT_COLLECTION_CONCURRENCY)
        )
        self.coalesced = 0
        self._last_round: tuple[datetime, datetime] | None = None  # (tick ts, clock at end)
        thresholds = context.thresholds
        self.limits = ThresholdLimits(
            response_time_ms=thresholds.response_time_ms,
            error_rate=thresholds.error_rate,
            cpu_percent=thresholds.cpu_percent,
            memory_percent=thresholds.memory_percent,
            disk_percent=thresholds.disk_percent,
        )
        self.tracker = ThresholdTracker(resend_s=float(context.extras.get("alert_resend_s", 60.0)))
        store_every_s = float(context.extras.get("store_every_s", 0.0))
        self.writer: BatchWriter[MetricPoint] | None = None
        if context.metrics is not None:
            self.writer = BatchWriter(context.metrics.append_points, context.clock, store_every_s)
        self.last_result: CollectionResult | None = None
        self.series_budget = SeriesBudget(int(context.extras.get("max_series_per_target", 5_000)))
        self.disturbances = DisturbanceBook()  # running repairs' known side effects

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.flush()
        for collector in self.collectors:  # pooled HTTP connections, kept between rounds
            close = getattr(collector, "aclose", None)
            if close is not None:
                await close()

    async def handle(self, event: Event) -> list[Event]:
        if isinstance(event, DisturbanceExpected):
            self.disturbances.note(event)
            return []
        if not isinstance(event, Tick) or event.kind != "health" or not self.collectors:
            return []
        if self._overran_by(event.ts):
            self.coalesced += 1
            self.log.warning("round overran: tick at %s coalesced into the next", event.ts)
            return []
        started = self.context.clock.now()
        result = await collect_all(
            self.collectors, event.ts, self.timeout_s, self.concurrency, self.series_budget.admit
        )
        self.last_result = result
        if self.writer is not None:
            await self.writer.add(result.points, event.ts)
        # thousands of points: judged in a worker thread, the event loop stays free
        changes = await run_blocking(self.context.clock, self._judge, result.points, event.ts)
        produced: list[Event] = [
            MetricsCollected(ts=event.ts, source=self.name, points=tuple(result.points))
        ]
        since = {
            tracked.correlation_id: tracked.since for tracked in changes.started + changes.resent
        }
        review = self.disturbances.review_alert
        produced += [
            review(change, since.get(change.correlation_id)) if isinstance(change, AlertRaised)
            else change
            for change in round_events(event.ts, self.name, changes, self.platforms)
        ]  # fmt: skip
        self._last_round = (event.ts, event.ts + (self.context.clock.now() - started))
        return produced

    def _judge(self, points: list[MetricPoint], ts: datetime) -> Changes:
        """Note the platforms seen and update the threshold rules' state with ``points``."""
        for point in points:
            if "platform" in point.labels:
                self.platforms.add(point.labels["platform"])
        return self.tracker.update(evaluate_thresholds(points, self.limits), ts)

    def _overran_by(self, tick_ts: datetime) -> bool:
        """Whether ``tick_ts`` fell inside the previous round (emitted while it ran)."""
        if self._last_round is None:
            return False
        previous_ts, previous_end = self._last_round
        return previous_ts < tick_ts < previous_end
