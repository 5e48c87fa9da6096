"""The Predictive agent's leak watches: a memory ramp the platform's traffic does not explain,
and a disk that fills.

Both are one :class:`LeakWatch` over a different resource (:class:`Resource`): ``MEMORY``
judged against its platform's traffic, ``DISK`` alone (temporary files do not follow the
requests). Every minute, for each host series of its resource, the watch takes the last
``window_s`` of minute means the agent saw (:class:`RecentWindow`: the store may hold the
newest back) and, for memory, its ``platform``'s total request rate of the same minutes (none
without the label), and asks :func:`~selfheal_ml.forecast.ramp.ramp_evidence` for the
strongest ramp against the series' healthy model. The model
(:func:`~selfheal_ml.forecast.ramp.fit_ramp_baseline`) is learnt from the store's minute
rollups of the last ``baseline_s``, re-learnt every ``refresh_s``. A z-score of at least
``z_threshold`` that has held at every check for ``confirm_s`` (as a Prometheus rule's
``for:``; 0, the default, predicts at once) is a ``BreachPredicted`` on the series (the
Diagnostic agent's evidence of a memory leak or a filling disk), repeated at most every
``repeat_s`` while it holds. A leak's evidence only grows, while the noise's own wanders fall
back within minutes; but a slow leak's does not grow fast either (see ``LEAK_Z``). The
prediction's ``value`` is the series now and ``recovered_below`` halfway back to the healthy
value (at least two noise sds above it), which a repair that undoes the growth (a restart, a
clean-up of temporary files) gets under.

A filling disk is much easier to see than a leak: in the simulator it grows at the same rate
in a tenth of the noise (``DISK_NOISE_SCALE``), so its watch takes ramps from 3 minutes on,
against a higher threshold (``DISK``'s docstring).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.recent_window import RecentWindow
from selfheal_ml.events import BreachPredicted, MetricPoint
from selfheal_ml.forecast.base import FloatArray
from selfheal_ml.forecast.minute_grid import MINUTE_S, held, minute_means, store_minutes
from selfheal_ml.forecast.ramp import (
    RampBaseline,
    RampEvidence,
    fit_ramp_baseline,
    minutes_to_limit,
    ramp_evidence,
    rate_if_within,
)
from selfheal_ml.metric_catalogue import (
    DEFAULT_LIMITS,
    HOST_DISK_PERCENT,
    HOST_MEMORY_PERCENT,
    HTTP_REQUESTS_PER_S,
)
from selfheal_ml.storage.metrics import MetricsStore

RecordBreach = Callable[[str, datetime, float, datetime, float, float], None]
"""series, predicted at, limit, eta, probability, slope per hour (``ForecastStore``)."""

LEAK_Z = 5.5
LEAK_CONFIRM_S = 0.0
"""The threshold, at once. On 13 development seeds' 21-day simulations
(``pipelines/leak_watch_replay.py --confirm``), 5.0 held for 4 minutes named 210 of 225 leaks
and one healthy platform against 5.5 at once's 211 and five; but in the closed loop the
4 minutes cost leaks that expire soon after they become visible (dev 7023: 15 of 18 named
against 17; held-out 7024: 19 of 24), so the confirmation is off by default
(docs/benchmarks.md, issue 12)."""
MIN_WINDOW_MINUTES = 20
MAX_ETA_S = 7 * 86400.0
RETRY_S = 600.0
"""While a watched series has no healthy model yet (a service started less than
``MIN_BASELINE_POINTS`` minutes ago, a new host), the store is asked again this often instead
of every ``refresh_s``: a fresh ``serve`` watches from about 2 hours on rather than 3."""


@dataclass(frozen=True)
class Resource:
    """What a watch judges: the metric, whether its platform's traffic explains part of it,
    its default threshold, the shortest ramp in minutes (``None``: the healthy model's noise
    memory, ``RampBaseline.memory_steps``), the innovations' upper clip in noise sds, and the
    longest time to the limit worth a prediction (``None``: any, up to ``MAX_ETA_S``)."""

    metric: str
    follows_traffic: bool
    z_threshold: float
    min_steps: int | None = None
    clip: float = 3.0
    horizon_s: float | None = None
    limit: float = 100.0  # the threshold table's default (the settings' ``[thresholds]`` rule)


MEMORY = Resource(
    HOST_MEMORY_PERCENT, follows_traffic=True, z_threshold=LEAK_Z,
    limit=DEFAULT_LIMITS.memory_percent,
)  # fmt: skip
DISK = Resource(
    HOST_DISK_PERCENT, follows_traffic=False, z_threshold=6.5, min_steps=3, clip=6.0,
    horizon_s=86400.0, limit=DEFAULT_LIMITS.disk_percent,
)  # fmt: skip
"""A filling disk's watch. Chosen on development seeds only, with the replay
(``pipelines/leak_watch_replay.py --metric disk``; docs/benchmarks.md, issue 12, 2026-12-07):
at z 6.5 with ramps from 3 minutes and a clip of 6 sds, it named 75 of 75 filling disks on
seeds 1001-1003 (3 days, 25 each) in a median of 150 s and at most 300 s, with no false
episode there nor on 2 x 21 fault-free days (seeds 1002, 1003), where z 5.5 had one. The
noise's memory as the shortest ramp (13-16 minutes for a disk) gave medians of 270-300 s and a
maximum of 420-450 s. A clip of 6 sds is above what a filling disk's minute adds (3.3-5.5
sds) and keeps one jump (a large file written at once) from reading as a steep ramp.

A disk's use is far steadier than memory, so its normal growth (logs, a database) can be a
significant ramp too; the watch predicts only a breach within 24 hours, as the
``HostDiskMayFillIn24Hours`` rule of awesome-prometheus-alerts does (a simulated fill, 7.2-12
points an hour from about 50 %, reaches 90 % within 6 hours)."""


class LeakWatch:
    """Per host series of a resource, a ramp test against its learnt healthy model (module
    docstring)."""

    def __init__(
        self,
        metrics: MetricsStore,
        limit: float,
        z_threshold: float = LEAK_Z,
        confirm_s: float = LEAK_CONFIRM_S,
        window_s: float = 3600.0,
        baseline_s: float = 86400.0,
        refresh_s: float = 3600.0,
        repeat_s: float = 300.0,
        record: RecordBreach | None = None,
        resource: Resource = MEMORY,
    ) -> None:
        self.metrics = metrics
        self.resource = resource
        self.record = record  # ForecastStore.record_breach: the prediction's history
        self.limit = limit
        self.z_threshold = z_threshold
        self.confirm_s = confirm_s
        self.window_s = window_s
        self.baseline_s = baseline_s
        self.refresh_s = refresh_s
        self.repeat_s = repeat_s
        watched = [f"{resource.metric}{{"]
        watched += [f"{HTTP_REQUESTS_PER_S}{{"] if resource.follows_traffic else []
        self.recent = RecentWindow(tuple(watched), window_s + 2 * MINUTE_S)
        self.watched: dict[str, dict[str, str]] = {}  # the resource's series -> labels
        self.traffic: dict[str, set[str]] = defaultdict(set)  # platform -> request-rate series
        self.baselines: dict[str, RampBaseline] = {}
        self._refreshed_at: datetime | None = None  # the last refresh of every series
        self._retried_at: datetime | None = None  # the last refresh, whole or a retry
        self._checked_at: datetime | None = None
        self._emitted_at: dict[str, datetime] = {}
        self._holding_since: dict[str, datetime] = {}  # series -> first check of its streak

    @classmethod
    def of(cls, context: AgentContext, resource: Resource = MEMORY) -> LeakWatch | None:
        """The resource's watch from the agent's ports (``predictive.leak_ramp_z`` for memory,
        ``predictive.disk_ramp_z`` for disk, 0 turns either off, and
        ``predictive.leak_confirm_s``); ``None`` without a metrics store."""
        settings = context.extras.get("predictive") or {}
        setting = "leak_ramp_z" if resource is MEMORY else "disk_ramp_z"
        z_threshold = float(settings.get(setting, resource.z_threshold))
        confirm_s = float(settings.get("leak_confirm_s", LEAK_CONFIRM_S))
        if context.metrics is None or z_threshold <= 0.0:
            return None
        store = context.extras.get("forecast_store")
        record = None if store is None else store.record_breach
        # both limits may be set in the settings (``[thresholds]``)
        thresholds = context.thresholds
        limit = thresholds.memory_percent if resource is MEMORY else thresholds.disk_percent
        return cls(
            context.metrics, limit, z_threshold, confirm_s, record=record, resource=resource,
        )  # fmt: skip

    @classmethod
    def all_of(cls, context: AgentContext) -> list[LeakWatch]:
        """The memory and the disk watch, those that are on."""
        watches = (cls.of(context, MEMORY), cls.of(context, DISK))
        return [watch for watch in watches if watch is not None]

    def observe(self, points: Iterable[MetricPoint]) -> None:
        """Keep a round's points of the resource and, for a resource that follows the traffic,
        its request-rate points with a ``platform`` label (a series without one is judged
        without traffic)."""
        kept: list[MetricPoint] = []
        prefix = f"{self.resource.metric}{{"
        for point in points:
            platform = point.labels.get("platform")
            if point.series.startswith(prefix):
                self.watched.setdefault(point.series, point.labels)
                kept.append(point)
            elif not self.resource.follows_traffic or platform is None:
                continue
            elif point.series.startswith(f"{HTTP_REQUESTS_PER_S}{{"):
                self.traffic[platform].add(point.series)
                kept.append(point)
        self.recent.observe(kept)

    def check(self, now: datetime) -> list[BreachPredicted]:
        """The round's leak predictions (at most one check a minute; the models re-learnt
        from the store when due)."""
        if self._checked_at is not None and (now - self._checked_at).total_seconds() < MINUTE_S:
            return []
        self._checked_at = now
        due = self._due(now)
        if due is not None:
            self.refresh(now, due)
        found: list[BreachPredicted] = []
        for series, labels in self.watched.items():
            prediction = self._judge(series, labels, now)
            if prediction is not None:
                found.append(prediction)
        return found

    def _due(self, now: datetime) -> list[str] | None:
        """The series to learn now: every one each ``refresh_s``; between those, the ones
        without a model each ``RETRY_S`` (a learnt model keeps its hourly rhythm)."""
        if (
            self._refreshed_at is None
            or (now - self._refreshed_at).total_seconds() >= self.refresh_s
        ):
            return list(self.watched)
        unlearnt = [series for series in self.watched if series not in self.baselines]
        since = self._retried_at or self._refreshed_at
        if unlearnt and (now - since).total_seconds() >= RETRY_S:
            return unlearnt
        return None

    def refresh(self, now: datetime, series_to_learn: list[str] | None = None) -> None:
        """Learn each series' healthy model from the store's minute rollups: every watched
        series (the hourly refresh), or only ``series_to_learn`` (a retry)."""
        if series_to_learn is None or set(series_to_learn) >= set(self.watched):
            self._refreshed_at = now
        self._retried_at = now
        chosen = list(self.watched) if series_to_learn is None else series_to_learn
        start = now - timedelta(seconds=self.baseline_s)
        traffic = {name for series in chosen for name in self._traffic_of(self.watched[series])}
        frames = self.metrics.rollups_many([*chosen, *traffic], start, now, "minute")
        for series in chosen:
            if series not in frames:
                continue
            values, load = store_minutes(frames, series, self._traffic_of(self.watched[series]))
            baseline = fit_ramp_baseline(values, load)
            if baseline is not None:
                self.baselines[series] = baseline

    def _traffic_of(self, labels: dict[str, str]) -> list[str]:
        return sorted(self.traffic.get(labels.get("platform", ""), ()))

    def _window(
        self, series: str, labels: dict[str, str], now: datetime
    ) -> tuple[FloatArray, FloatArray]:
        minutes = int(self.window_s // MINUTE_S) + 1
        since = now - timedelta(seconds=minutes * MINUTE_S)
        values = minute_means(self.recent.since(series, since), now, minutes)
        load = np.zeros(minutes)
        for name in self._traffic_of(labels):
            load = load + held(minute_means(self.recent.since(name, since), now, minutes))
        values = held(values)
        known = np.isfinite(values) & np.isfinite(load)
        first = int(np.argmax(known)) if known.any() else minutes
        return values[first:], load[first:]

    def evidence(
        self, series: str, now: datetime
    ) -> tuple[RampBaseline, RampEvidence, float, float] | None:
        """What the test sees of ``series`` at ``now``: its healthy model, the strongest ramp,
        and the last minute's value and load (``None`` without a model or a long enough
        window)."""
        baseline = self.baselines.get(series)
        if baseline is None:
            return None
        values, load = self._window(series, self.watched.get(series, {}), now)
        if values.size < MIN_WINDOW_MINUTES:
            return None
        evidence = ramp_evidence(
            values, load, baseline, self.resource.clip, self.resource.min_steps
        )
        if evidence is None:
            return None
        return baseline, evidence, float(values[-1]), float(load[-1])

    def _held(
        self, series: str, baseline: RampBaseline, evidence: RampEvidence, now: datetime
    ) -> bool:
        """Whether the evidence meets the threshold now and has at every check for
        ``confirm_s`` (a check without it ends the streak)."""
        meets = (
            evidence.z >= self.z_threshold
            and evidence.slope > 0.0
            and evidence.ongoing(baseline.noise_sd)
        )
        if not meets:
            self._holding_since.pop(series, None)
            return False
        since = self._holding_since.setdefault(series, now)
        return (now - since).total_seconds() >= self.confirm_s

    def _judge(self, series: str, labels: dict[str, str], now: datetime) -> BreachPredicted | None:
        seen = self.evidence(series, now)
        if seen is None:
            self._holding_since.pop(series, None)
            return None
        baseline, evidence, value, _ = seen
        if not self._held(series, baseline, evidence, now):
            return None
        slope = evidence.slope
        horizon_s = self.resource.horizon_s
        if horizon_s is not None:
            values, load = self._window(series, labels, now)
            within = rate_if_within(
                values - baseline.expected(load), evidence.steps, self.limit, value,
                horizon_s / MINUTE_S,
            )  # fmt: skip
            if within is None:
                return None  # real but slow growth: not a breach worth a repair
            slope = within
        ahead_s = min(minutes_to_limit(self.limit, value, slope) * MINUTE_S, MAX_ETA_S)
        last = self._emitted_at.get(series)
        if last is not None and (now - last).total_seconds() < self.repeat_s:
            return None
        self._emitted_at[series] = now
        healthy = value - evidence.residual
        margin = max(0.5 * evidence.residual, 2.0 * baseline.noise_sd)
        probability = round(1.0 - 0.5 * math.erfc(evidence.z / math.sqrt(2.0)), 6)
        eta = now + timedelta(seconds=ahead_s)
        if self.record is not None:
            self.record(series, now, self.limit, eta, probability, slope * 60.0)
        return BreachPredicted(
            ts=now, source="Predictive", series=series, limit=self.limit,
            eta=eta, probability=probability,
            labels=labels, value=round(value, 6), recovered_below=round(healthy + margin, 6),
        )  # fmt: skip
