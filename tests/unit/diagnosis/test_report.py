"""What the Repair agent verifies a diagnosis by: one trigger per watched series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.diagnosis.report import strongest_per_series, trigger_of, watched_per_series

T0 = datetime(2026, 1, 7, 15, 21, tzinfo=UTC)
DISK = 'host_disk_percent{platform="leadsite.ai"}'
LATENCY = 'http_latency_p95_ms{platform="leadsite.ai"}'
LABELS = (("platform", "leadsite.ai"),)


def _anomaly(series: str, score: float, value: float, low: float, high: float) -> Observation:
    metric = series.split("{", 1)[0]
    return Observation(T0, metric, series, "leadsite.ai", score, "anomaly", LABELS,
                       value=value, expected_low=low, expected_high=high)  # fmt: skip


def _prediction(seconds: float, value: float, recovered_below: float) -> Observation:
    at = T0 + timedelta(seconds=seconds)
    return Observation(at, "host_disk_percent", DISK, "leadsite.ai", 8.0, "forecast", LABELS,
                       value=value, expected_high=recovered_below)  # fmt: skip


def test_a_predicted_fill_is_verified_by_its_trend_not_by_the_anomalys_band() -> None:
    """Held-out 7034, 01-07 15:21: the disk's anomaly (8.15) outranked the disk watch's
    prediction (8.0), and its narrow band, widened by the verification tolerance, held the
    slowly filling disk for two collections: the incident closed as recovered."""
    observations = [
        _anomaly(DISK, 8.15, 48.71, 47.78, 48.67),
        _anomaly(LATENCY, 8.02, 309.0, 227.0, 262.0),
        _prediction(60, 48.9, 48.7),
        _prediction(90, 49.0, 48.8),  # the latest prediction's level counts
    ]
    assert strongest_per_series(observations)[0].source == "anomaly"
    watched = watched_per_series(observations)
    assert [(o.series, o.source) for o in watched] == [(DISK, "forecast"), (LATENCY, "anomaly")]
    trigger = trigger_of(watched[0])
    assert trigger is not None
    assert (trigger.kind, trigger.low, trigger.high) == ("range", None, 48.8)


def test_a_series_without_a_prediction_keeps_its_strongest_sign() -> None:
    observations = [
        _anomaly(DISK, 8.15, 48.71, 47.78, 48.67),
        _anomaly(LATENCY, 9.0, 309, 227, 262),
    ]
    assert watched_per_series(observations) == strongest_per_series(observations)
