"""``/metrics`` families for Prometheus users: model output and the remote write ingest.

Registered on the app's own registry beside the runtime's collector
(:mod:`selfheal_ml.telemetry`), read at scrape time:

- ``selfheal_anomaly_score{series}`` (calibrated score, one scale for every detector) and
  ``selfheal_anomaly{series}`` (1 while the newest point was flagged);
- ``selfheal_forecast{series,horizon_h,forecast_quantile}`` (0.5 = mean; 0.1/0.9 and 0.025/0.975 =
  the 80 % and 95 % interval bounds). The label is not ``quantile``: Prometheus reserves that
  name for summaries, and ``promtool check metrics`` refuses it on a gauge;
- ``selfheal_breach_eta_seconds{series}`` and ``selfheal_breach_probability{series}``;
- ``selfheal_remote_write_requests_total{outcome}``, ``..._samples_total`` and
  ``..._dropped_samples_total``.

Cardinality is bounded by ``[score_export]``: the listed series, else the ``top_n`` most
anomalous of the last ``window_s`` (default 20), times the horizons and five quantiles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from selfheal_ml.api.remote_write_ingest import RemoteWriteCounters
from selfheal_ml.config import ScoreExportSettings
from selfheal_ml.storage.score_export import ScoreExport


class ScoreMetricsCollector:
    """A prometheus_client collector over the runtime's stores (``runtime_source()``)."""

    def __init__(self, runtime_source: Callable[[], Any], settings: ScoreExportSettings) -> None:
        self._runtime_source = runtime_source
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime_source()
        if runtime is None:
            return
        export = ScoreExport(runtime.database)
        now = runtime.clock.now()
        settings = self.settings
        scores = export.latest_scores(
            now, settings.window_s, series=settings.series, top_n=settings.top_n
        )
        score = GaugeMetricFamily(
            "selfheal_anomaly_score", "Newest calibrated anomaly score", labels=["series"]
        )
        flagged = GaugeMetricFamily(
            "selfheal_anomaly", "1 if the newest point was flagged anomalous", labels=["series"]
        )
        for latest in scores:
            score.add_metric([latest.series], latest.score)
            flagged.add_metric([latest.series], 1.0 if latest.anomalous else 0.0)
        yield score
        yield flagged
        chosen = list(settings.series) or [latest.series for latest in scores]
        forecast = GaugeMetricFamily(
            "selfheal_forecast",
            "Forecast value at horizon_h hours ahead (forecast_quantile 0.5 = mean)",
            labels=["series", "horizon_h", "forecast_quantile"],
        )
        for value in export.forecasts(chosen, settings.horizons_h):
            forecast.add_metric([value.series, f"{value.horizon_h:g}", value.quantile], value.value)
        yield forecast
        eta = GaugeMetricFamily(
            "selfheal_breach_eta_seconds", "Seconds until the forecast breach", labels=["series"]
        )
        probability = GaugeMetricFamily(
            "selfheal_breach_probability", "Probability of the predicted breach", labels=["series"]
        )
        for breach in export.breaches(chosen, now):
            eta.add_metric([breach.series], breach.eta_s)
            probability.add_metric([breach.series], breach.probability)
        yield eta
        yield probability


class RemoteWriteMetricsCollector:
    """The remote write ingest's counts."""

    def __init__(self, counters: RemoteWriteCounters) -> None:
        self.counters = counters

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        requests, samples, dropped = self.counters.snapshot()
        by_outcome = CounterMetricFamily(
            "selfheal_remote_write_requests", "Remote write requests", labels=["outcome"]
        )
        for outcome in sorted(requests):
            by_outcome.add_metric([outcome], requests[outcome])
        yield by_outcome
        stored = CounterMetricFamily("selfheal_remote_write_samples", "Remote write samples stored")
        stored.add_metric([], samples)
        yield stored
        lost = CounterMetricFamily(
            "selfheal_remote_write_dropped_samples", "Non-finite remote write samples dropped"
        )
        lost.add_metric([], dropped)
        yield lost
