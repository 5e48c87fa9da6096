"""The metric catalogue is the one source of metric names and threshold limits."""

from __future__ import annotations

import numpy as np
import pytest

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.config import Settings
from selfheal_ml.diagnosis.observations import ALERT_METRICS
from selfheal_ml.monitoring.thresholds import RULES, metrics_read
from selfheal_ml.repair.incident import FAMILIES, METRIC_FAMILIES
from selfheal_ml.training.observe import HEALTH_LIMITS, SeriesLayout, detection_step


def test_every_rule_reads_a_catalogued_metric() -> None:
    assert metrics_read() <= set(mc.METRICS)
    assert {rule.metric for rule in RULES} <= metrics_read()


def test_every_symptom_metric_and_alert_metric_is_catalogued() -> None:
    assert set(METRIC_FAMILIES) <= set(mc.METRICS)
    assert {metric for metric, _ in ALERT_METRICS.values()} <= set(mc.METRICS)
    assert set(METRIC_FAMILIES.values()) <= set(FAMILIES)


def test_settings_defaults_are_the_catalogue_limits() -> None:
    thresholds = Settings().thresholds
    limits = mc.DEFAULT_LIMITS
    assert thresholds.error_rate == limits.error_rate == 0.05
    assert thresholds.response_time_ms == limits.response_time_ms == 2000.0
    assert thresholds.cpu_percent == limits.cpu_percent == 80.0
    assert thresholds.memory_percent == limits.memory_percent == 85.0


def test_training_detection_uses_the_monitor_limits() -> None:
    limits = {(metric, status): limit for metric, status, limit in HEALTH_LIMITS}
    assert limits[(mc.HOST_CPU_PERCENT, None)] == mc.DEFAULT_LIMITS.cpu_percent
    assert limits[(mc.HOST_MEMORY_PERCENT, None)] == mc.DEFAULT_LIMITS.memory_percent
    assert limits[(mc.HTTP_ERROR_RATIO, "5xx")] == mc.DEFAULT_LIMITS.error_rate
    assert limits[(mc.HTTP_LATENCY_P95_MS, None)] == mc.DEFAULT_LIMITS.response_time_ms


@pytest.mark.parametrize(("failures", "attempts", "opens"), [(2.0, 3.0, True), (2.0, 20.0, False)])
def test_training_detection_reads_auth_spikes_like_the_monitor(
    failures: float, attempts: float, opens: bool
) -> None:
    labels = {"platform": "a"}
    series = SeriesLayout(
        names=(mc.AUTH_FAILURES_PER_S, mc.AUTH_ATTEMPTS_PER_S), labels=(labels, labels)
    )
    rows = np.array([[0.1, 3.0], [failures, attempts], [failures, attempts]])
    found = detection_step(series, np.array([[0.1, 3.0]]), rows)
    assert (found == 2) if opens else found is None


def test_unknown_names_are_refused() -> None:
    with pytest.raises(KeyError, match="not in the metric catalogue"):
        mc.catalogued("http_requests_total_per_second")
