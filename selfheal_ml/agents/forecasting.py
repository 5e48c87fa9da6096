"""The Predictive agent's scheduled work: forecasts per series, and capacity-breach checks.

Kept apart from the agent so the agent stays a thin shell. Both methods are synchronous and
meant to run in a worker thread: they read history from the MetricsStore, call the forecast
domain (``selfheal_ml.forecast``), write the cache and return the events to publish.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from selfheal_ml.agents.base import AgentContext, Thresholds
from selfheal_ml.agents.forecast_fitting import FittedRound, fit_series, fit_series_in_child
from selfheal_ml.agents.recent_window import RecentWindow
from selfheal_ml.clock import SimClock
from selfheal_ml.events import BreachPredicted, ForecastProduced
from selfheal_ml.forecast.base import Forecaster
from selfheal_ml.forecast.capacity import (
    DAY_S,
    LEAK_HORIZON_S,
    MIN_LOOK_SHARE,
    BreachPrediction,
    at_latest_traffic,
    predict_breach,
    short_look,
    since_last_reset,
)
from selfheal_ml.forecast.minute_grid import store_minutes
from selfheal_ml.forecast.ramp import fit_ramp_baseline
from selfheal_ml.metric_catalogue import HTTP_REQUESTS_PER_S
from selfheal_ml.storage.forecasts import LEVELS, ForecastStore
from selfheal_ml.storage.metrics import MetricsStore, parse_series_key

log = logging.getLogger(__name__)

MIN_HOURS = 48
#: Resources that accumulate (a leak, a filling disk) rather than follow the load: they get the
#: short-window check as well.
CUMULATIVE_RESOURCES = frozenset({"host_memory_percent", "host_disk_percent"})


def resource_limit(name: str, thresholds: Thresholds) -> float | None:
    """The capacity limit of a resource metric, or None for metrics that have none."""
    limits = {
        "host_cpu_percent": thresholds.cpu_percent,
        "host_memory_percent": thresholds.memory_percent,
        "host_disk_percent": thresholds.disk_percent,
    }
    return limits.get(name)


def default_forecaster() -> Forecaster:
    """The forecast registry's default, imported at the first fit: the forecasters bring
    statsmodels and SciPy (about 80 MB of RSS), which a service without ``MIN_HOURS`` of
    history in any series does not need yet."""
    from selfheal_ml.forecast.registry import default_forecaster as registry_default

    return registry_default()


def hourly_series(frame: pd.DataFrame) -> pd.Series:
    """Hourly means on a regular UTC index; short gaps filled by interpolation."""
    values = pd.Series(frame["value"].to_numpy(np.float64), index=pd.DatetimeIndex(frame["ts"]))
    regular = values.resample("1h").mean()
    return regular.interpolate(limit=3).dropna()


@dataclass
class ForecastRound:
    """Forecasts every selected series and checks resource series for coming breaches."""

    metrics: MetricsStore
    store: ForecastStore
    thresholds: Thresholds
    make_forecaster: Callable[[], Forecaster] = default_forecaster
    select: Callable[[str], bool] = lambda _: True
    history_s: float = 14 * 86400.0
    horizon_h: int = 24
    capacity_window_s: float = 6 * 3600.0
    leak_window_s: float = 0.0  # the short look's window (0: no short look)
    leak_horizon_s: float = LEAK_HORIZON_S
    store_every_s: float = 0.0  # how often the store receives points (0: every round)
    fit_in_child: bool = False  # fit each round in a short-lived child process
    _store_looked_at: datetime | None = None
    catalogue_refresh_s: float = 3600.0
    _limits: dict[str, float] | None = None
    _limits_read_at: datetime | None = None
    _traffic: dict[str, list[str]] | None = None
    _shares: dict[str, float] = field(default_factory=dict)  # series -> points per req/s
    share_window_s: float = DAY_S
    share_refresh_s: float = 3600.0
    _shares_learnt_at: datetime | None = None
    recent: RecentWindow = field(init=False)

    def __post_init__(self) -> None:
        watched = (*sorted(CUMULATIVE_RESOURCES), HTTP_REQUESTS_PER_S)
        self.recent = RecentWindow(tuple(f"{name}{{" for name in watched), self.leak_window_s)

    @property
    def shortest_look_points(self) -> int:
        """The fewest 5-minute means the long look fits a trend to: ``MIN_LOOK_SHARE`` of its
        window (a regime since a reset can be shorter), at least 12."""
        return max(12, int(MIN_LOOK_SHARE * self.capacity_window_s // 300.0))

    def resource_limits(self, now: datetime) -> dict[str, float]:
        """Resource series and their limits, from the catalogue (re-read at most hourly)."""
        stale = self._limits_read_at is None or (
            (now - self._limits_read_at).total_seconds() >= self.catalogue_refresh_s
        )
        if self._limits is None or stale:
            limits: dict[str, float] = {}
            traffic: dict[str, list[str]] = {}
            for series in self.metrics.catalogue()["series"]:
                name, labels = parse_series_key(series)
                limit = resource_limit(name, self.thresholds)
                if limit is not None:
                    limits[series] = limit
                if name == HTTP_REQUESTS_PER_S and "platform" in labels:
                    traffic.setdefault(labels["platform"], []).append(series)
            self._limits, self._traffic, self._limits_read_at = limits, traffic, now
        return self._limits

    def traffic_of(self, series: str) -> list[str]:
        """The request-rate series of the platform ``series`` belongs to (read with the
        limits)."""
        platform = parse_series_key(series)[1].get("platform")
        return (self._traffic or {}).get(platform, []) if platform else []

    def histories(self, now: datetime) -> list[tuple[str, pd.Series]]:
        """The hourly history of each selected series that has enough of it."""
        found: list[tuple[str, pd.Series]] = []
        start = now - timedelta(seconds=self.history_s)
        for series in self.metrics.catalogue()["series"]:
            if not self.select(series):
                continue
            history = hourly_series(self.metrics.history(series, start, now, "hour"))
            if len(history) >= MIN_HOURS:
                found.append((series, history))
        return found

    def fit(self, histories: list[tuple[str, pd.Series]]) -> FittedRound | None:
        """The round's forecasts: in a child process if ``fit_in_child`` (``None`` when the
        child failed as a whole: logged, and the next round tries again)."""
        if not self.fit_in_child:
            return fit_series(self.make_forecaster, histories, self.horizon_h, LEVELS)
        try:
            fitted = fit_series_in_child(self.make_forecaster, histories, self.horizon_h, LEVELS)
        except Exception as exc:  # a crashed or killed child: the agent keeps running
            log.error("forecast round of %d series failed in its child process: %r",
                      len(histories), exc)  # fmt: skip
            return None
        log.info(
            "forecast round: %d series fitted in a child process (%.1f CPU s, peak RSS %.0f MB)",
            len(fitted.forecasts), fitted.cpu_s, fitted.peak_rss_mb,
        )  # fmt: skip
        return fitted

    @classmethod
    def of(cls, context: AgentContext) -> ForecastRound | None:
        """The Predictive agent's round from its ports (``forecast_store``, ``forecast_filter``,
        ``store_every_s``, ``predictive.leak_window_s``); ``None`` without a forecast store or a
        metrics store. In real time each round's fits run in a child process that exits after
        the round, so statsmodels and SciPy do not stay in the service."""
        extras = context.extras
        if extras.get("forecast_store") is None or context.metrics is None:
            return None
        return cls(
            context.metrics,
            extras["forecast_store"],
            context.thresholds,
            select=extras.get("forecast_filter") or (lambda _: True),
            store_every_s=float(extras.get("store_every_s", 0.0)),
            leak_window_s=float((extras.get("predictive") or {}).get("leak_window_s", 0.0)),
            fit_in_child=not isinstance(context.clock, SimClock),
        )

    def on_tick(self, kind: str, now: datetime) -> list[ForecastProduced | BreachPredicted]:
        """A scheduled round: ``forecast`` (every selected series) or ``capacity`` (resource
        series' coming breaches); nothing for other ticks."""
        if kind == "forecast":
            return list(self.forecast_all(now))
        if kind == "capacity":
            return list(self.check_capacity(now))
        return []

    def forecast_all(self, now: datetime) -> list[ForecastProduced]:
        """Fit and cache a forecast for each selected series with enough hourly history."""
        produced: list[ForecastProduced] = []
        histories = self.histories(now)
        fitted = self.fit(histories) if histories else None
        if fitted is None:
            return produced
        for series, reason in fitted.failures.items():  # one bad series does not stop the round
            log.warning("forecast of %s failed: %s", series, reason)
        for series, forecast in fitted.forecasts.items():
            frame = pd.DataFrame(
                {"step": np.arange(1, forecast.horizon + 1), "ts": forecast.index,
                 "mean": forecast.mean}
                | {f"lo_{level}": forecast.lower[level] for level in LEVELS}
                | {f"hi_{level}": forecast.upper[level] for level in LEVELS}
            )  # fmt: skip
            self.store.save(series, now, forecast.model, forecast.fallback_used, frame)
            produced.append(
                ForecastProduced(
                    ts=now, source="Predictive", series=series, horizon=self.horizon_h,
                    model=forecast.model,
                )
            )  # fmt: skip
        return produced

    def check_capacity(self, now: datetime) -> list[BreachPredicted]:
        """A ``BreachPredicted`` for each resource series credibly heading over its limit.

        Two looks per series: the trend of the last ``capacity_window_s`` (5-minute means)
        extrapolated a day ahead for resources that accumulate (memory, disk; with the
        platform's traffic held at its latest level by the share learnt over a day, so memory
        that rose with the morning's traffic is no trend to the limit) and no further
        than the window itself for those that follow the load (CPU: six hours of a daily
        cycle's rise say nothing about tonight; extrapolated a day ahead, every morning
        predicted a breach that never came), and, for resources that accumulate, the
        trend of the last ``leak_window_s`` (the points the agent saw, :class:`RecentWindow`:
        the store may hold the newest back) that the platform's traffic does
        not explain, extrapolated only ``leak_horizon_s`` ahead: a leak shows within the hour
        as growth while the traffic is flat, and a short window must not predict far.
        """
        limits = self.resource_limits(now)
        start = now - timedelta(seconds=self.capacity_window_s)
        # the long look reads the store: again only once the store can hold newer points
        looked = self._store_looked_at
        stale = looked is None or (now - looked).total_seconds() >= self.store_every_s
        traffic = {name for series in limits for name in self.traffic_of(series)}
        recent = (
            self.metrics.rollups_many([*limits, *traffic], start, now, "minute") if stale else {}
        )
        self._store_looked_at = now if stale else looked
        self._learn_shares(limits, now)
        predictions: list[BreachPredicted] = []
        for series in limits:
            frame = recent.get(series)
            breach = None
            cumulative = parse_series_key(series)[0] in CUMULATIVE_RESOURCES
            if frame is not None and len(frame) >= 12:
                values = pd.Series(
                    frame["value"].to_numpy(np.float64), index=pd.DatetimeIndex(frame["ts"])
                )
                if cumulative:
                    values = self._at_latest_traffic(series, values, recent)
                five_minutes = values.resample("5min").mean().dropna()
                if cumulative:  # a crash or restart starts a new regime
                    five_minutes = since_last_reset(five_minutes)
                if len(five_minutes) >= self.shortest_look_points:
                    horizon_s = DAY_S if cumulative else min(DAY_S, self.capacity_window_s)
                    breach = predict_breach(five_minutes, limits[series], series, horizon_s)
            if breach is None and cumulative and self.leak_window_s > 0:
                breach = self._fast_growth(series, limits[series], now)
            if breach is None:
                continue
            self.store.record_breach(
                series, now, limits[series], breach.eta, breach.probability, breach.slope_per_hour
            )
            predictions.append(
                BreachPredicted(
                    ts=now, source="Predictive", series=series, limit=limits[series],
                    eta=breach.eta, probability=breach.probability,
                    labels=parse_series_key(series)[1], value=round(breach.level, 6),
                    recovered_below=round(breach.level - 2.0 * breach.spread, 6),
                )
            )  # fmt: skip
        return predictions

    def _fast_growth(self, series: str, limit: float, now: datetime) -> BreachPrediction | None:
        """The short look of :meth:`check_capacity` (:func:`short_look`) on the points this
        agent saw in the last ``leak_window_s``, with the traffic's share (learned over the
        store's last day by :meth:`_learn_shares`) taken out; ``None``: no
        credible breach."""
        since = now - timedelta(seconds=self.leak_window_s)
        window = self.recent.since(series, since)
        if len(window) < 12 or (now - window[0][0]).total_seconds() < 0.8 * self.leak_window_s:
            return None  # a short look over a few points is noise
        traffic: dict[datetime, float] = {}
        for name in self.traffic_of(series):
            for ts, value in self.recent.since(name, since):
                traffic[ts] = traffic.get(ts, 0.0) + value
        load = np.array([traffic.get(ts, math.nan) for ts, _ in window])
        values = np.array([value for _, value in window])
        times = np.array([(ts - window[0][0]).total_seconds() for ts, _ in window])
        share = self._shares.get(series, 0.0)
        return short_look(
            times, values, load, share, window[-1][0], limit, series, self.leak_horizon_s
        )

    def _at_latest_traffic(
        self, series: str, values: pd.Series, recent: dict[str, pd.DataFrame]
    ) -> pd.Series:
        """``values`` with the platform's traffic held at its latest level
        (:func:`at_latest_traffic` with the share :meth:`_learn_shares` learnt): memory that
        rose with the morning's traffic is not a trend towards the limit; unchanged without
        a share or traffic."""
        share = self._shares.get(series, 0.0)
        parts = [recent[name].set_index("ts")["value"] for name in self.traffic_of(series)
                 if name in recent]  # fmt: skip
        if share <= 0.0 or not parts:
            return values
        load = pd.concat(parts, axis=1).sum(axis=1, min_count=1)
        aligned = load.reindex(values.index).to_numpy(np.float64)
        held = at_latest_traffic(values.to_numpy(np.float64), aligned, share)
        return pd.Series(held, index=values.index)

    def _learn_shares(self, limits: dict[str, float], now: datetime) -> None:
        """Per memory/disk series, how many points one request per second is worth: the
        share of :func:`~selfheal_ml.forecast.ramp.fit_ramp_baseline` (robust: a crash or an
        old leak is left out) on the store's minute rollups of the last ``share_window_s``
        (a day: the traffic rises and falls in it, so the share is not confounded with a
        trend), re-learnt every ``share_refresh_s`` (every round until one is learnt: a new
        service has too little history at first)."""
        learnt = self._shares_learnt_at
        if learnt is not None and (now - learnt).total_seconds() < self.share_refresh_s:
            return
        cumulative = [s for s in limits if parse_series_key(s)[0] in CUMULATIVE_RESOURCES]
        traffic = {name for series in cumulative for name in self.traffic_of(series)}
        if not cumulative or not traffic:
            return
        start = now - timedelta(seconds=self.share_window_s)
        frames = self.metrics.rollups_many([*cumulative, *traffic], start, now, "minute")
        for series in cumulative:
            if series not in frames:
                continue
            values, load = store_minutes(frames, series, self.traffic_of(series))
            baseline = fit_ramp_baseline(values, load)
            if baseline is not None:
                self._shares[series] = baseline.share
                self._shares_learnt_at = now
