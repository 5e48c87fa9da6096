"""What a monitor sees of a simulated fault: detection and the anomaly snapshot.

The training data must be built from observations, never from the injected fault kind. Two
pieces stand in for the live Monitor and Predictive agents:

- :func:`detection_step` opens the incident at the first of two consecutive 30 s steps where a
  platform breaches the seed's health thresholds (5xx ratio >= 5 %, p95 >= 2 s, CPU, memory or
  disk >= 90 %, background job silent >= 15 min, >= 5 login failures/s) or a shared dependency
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

from selfheal_ml.repair.incident import Signal

SIGNAL_SCORE = 3.0
RELATIVE_FLOOR = 0.1
ABSOLUTE_FLOOR = 1e-3
SCORE_CAP = 50.0
# (metric, status_class or None, limit): a platform breaches when the value reaches the limit
HEALTH_LIMITS: tuple[tuple[str, str | None, float], ...] = (
    ("http_error_ratio", "5xx", 0.05),
    ("http_latency_p95_ms", None, 2000.0),
    ("host_cpu_percent", None, 90.0),
    ("host_memory_percent", None, 90.0),
    ("host_disk_percent", None, 90.0),
    ("background_job_last_success_age_s", None, 900.0),
    ("auth_failures_per_s", None, 5.0),
)


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
