"""What a monitor sees of a simulated fault: detection and the anomaly snapshot.

The training data must be built from observations, never from the injected fault kind. Two
pieces stand in for the live Monitor and Predictive agents:

- :func:`detection_step` opens the incident at the first of two consecutive 30 s steps where a
  platform breaches the Monitor's threshold limits, read from the metric catalogue's one table
  (:class:`selfheal_ml.metric_catalogue.ThresholdLimits`: 5xx ratio >= 5 %, p95 >= 2 s, CPU
  >= 80 %, memory >= 85 %, disk >= 90 %, background job silent >= 15 min, >= 1 login failure/s
  that is more than 30 % of the attempts) or a shared dependency
  breaches its rule (PostgreSQL down, >= 80 connections in use, slow queries >= 10x their
  pre-incident level and >= 0.5/s; Redis hit ratio 15 points below its pre-incident level or
  memory up 25 %). These are level rules on purpose: a z-score against the pre-incident hour
  fires on the daily traffic cycle within hours, which opened slow faults on unrelated drift;
- :func:`snapshot_signals` scores every series at that moment against what a fault-free
  platform would show at the same time of day (a twin simulator with another seed, i.e. a
  seasonal profile with its own noise) on the z-like scale ``(value - expected) / scale``, and
  keeps the series at ``|score| >= 3`` as :class:`Signal` s.

>>> import numpy as np
>>> series = SeriesLayout(names=("db_up",), labels=({"dependency": "postgres"},))
>>> baseline = np.ones((10, 1))
>>> rows = np.array([[1.0], [0.0], [0.0]])
>>> detection_step(series, baseline, rows)
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.metric_catalogue import ThresholdLimits
from selfheal_ml.repair.incident import Signal

SIGNAL_SCORE = 3.0
RELATIVE_FLOOR = 0.1
ABSOLUTE_FLOOR = 1e-3
SCORE_CAP = 50.0


def health_limits(limits: ThresholdLimits) -> tuple[tuple[str, str | None, float], ...]:
    """(metric, status_class or None, limit) of the level rules: a platform breaches when the
    value reaches the limit (the auth-failure rule pairs two series, see
    :meth:`SeriesLayout.auth_columns`)."""
    return (
        (mc.HTTP_ERROR_RATIO, "5xx", limits.error_rate),
        (mc.HTTP_LATENCY_P95_MS, None, limits.response_time_ms),
        (mc.HOST_CPU_PERCENT, None, limits.cpu_percent),
        (mc.HOST_MEMORY_PERCENT, None, limits.memory_percent),
        (mc.HOST_DISK_PERCENT, None, limits.disk_percent),
        (mc.JOB_LAST_SUCCESS_AGE_S, None, limits.job_silence_s),
    )


HEALTH_LIMITS = health_limits(mc.DEFAULT_LIMITS)


@dataclass(frozen=True)
class SeriesLayout:
    """Names and labels of the simulator's series, in value-column order."""

    names: tuple[str, ...]
    labels: tuple[dict[str, str], ...]

    def health_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and limits of every health-threshold series."""
        columns: list[int] = []
        limits: list[float] = []
        for column, (name, labels) in enumerate(zip(self.names, self.labels, strict=True)):
            for metric, status_class, limit in HEALTH_LIMITS:
                if name == metric and status_class in (None, labels.get("status_class")):
                    columns.append(column)
                    limits.append(limit)
        return np.array(columns, dtype=int), np.array(limits)

    def auth_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Column indices of each platform's auth failures and, in the same order, attempts."""
        attempts = {
            labels.get("platform"): column
            for column, (name, labels) in enumerate(zip(self.names, self.labels, strict=True))
            if name == mc.AUTH_ATTEMPTS_PER_S
        }
        pairs = [
            (column, attempts[labels.get("platform")])
            for column, (name, labels) in enumerate(zip(self.names, self.labels, strict=True))
            if name == mc.AUTH_FAILURES_PER_S and labels.get("platform") in attempts
        ]
        return np.array([f for f, _ in pairs], dtype=int), np.array(
            [a for _, a in pairs], dtype=int
        )

    def dependency_columns(self) -> np.ndarray:
        """Column indices of the shared dependencies' series."""
        return np.array([i for i, labels in enumerate(self.labels) if "dependency" in labels])


def _first_sustained(flags: np.ndarray, run: int = 2) -> int | None:
    count = 0
    for index, flag in enumerate(flags.tolist()):
        count = count + 1 if flag else 0
        if count >= run:
            return index
    return None


def _dependency_breach(series: SeriesLayout, baseline: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows where a shared dependency breaches its health rule (see the module docstring)."""
    breach = np.zeros(rows.shape[0], dtype=bool)
    for column, (name, labels) in enumerate(zip(series.names, series.labels, strict=True)):
        if "dependency" not in labels:
            continue
        mean = float(baseline[:, column].mean())
        values = rows[:, column]
        if name == "db_up":
            breach |= values < 0.5
        elif name == "cache_hit_ratio":
            breach |= values <= mean - 0.15
        elif name == "redis_memory_used_bytes":
            breach |= values >= 1.25 * mean
        elif name == "db_connections_in_use":
            breach |= values >= 80.0
        elif name == "db_slow_queries_per_s":
            breach |= values >= max(10.0 * mean, 0.5)
    return breach


def detection_step(series: SeriesLayout, baseline: np.ndarray, rows: np.ndarray) -> int | None:
    """Index in ``rows`` (T, series) where the incident opens, or ``None`` (see module doc)."""
    columns, limits = series.health_columns()
    breach = _dependency_breach(series, baseline, rows)
    if columns.size:
        breach |= (rows[:, columns] >= limits).any(axis=1)
    failures, attempts = series.auth_columns()
    if failures.size:
        auth = mc.DEFAULT_LIMITS
        failed = rows[:, failures]
        spike = (failed >= auth.auth_failures_per_s) & (
            failed > auth.auth_failure_ratio * rows[:, attempts]
        )
        breach |= spike.any(axis=1)
    return _first_sustained(breach)


def snapshot_scores(value: np.ndarray, expected: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Signed z-like scores of one snapshot against the expected values, capped at +-50."""
    scale = np.maximum.reduce(
        [
            1.5 * baseline.std(axis=0),
            RELATIVE_FLOOR * np.abs(expected),
            np.full(expected.shape, ABSOLUTE_FLOOR),
        ]
    )
    scores: np.ndarray = np.clip((value - expected) / scale, -SCORE_CAP, SCORE_CAP)
    return scores


def snapshot_signals(series: SeriesLayout, scores: Sequence[float]) -> tuple[Signal, ...]:
    """The series at ``|score| >= 3`` as signals (metric, platform/dependency, status class)."""
    signals: list[Signal] = []
    for name, labels, score in zip(series.names, series.labels, scores, strict=True):
        if abs(score) >= SIGNAL_SCORE:
            signals.append(
                Signal(
                    metric=name,
                    score=round(float(score), 3),
                    platform=labels.get("platform"),
                    dependency=labels.get("dependency"),
                    status_class=labels.get("status_class"),
                )
            )
    return tuple(signals)
