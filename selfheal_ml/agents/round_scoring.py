"""One collection round through the Predictive agent's detector bank: verdicts, events, rows.

:func:`score_round` is the hot loop of the agent (every point of every round): the epoch
seconds of a round's shared timestamp are computed once (a datetime object the points share
is not even hashed again), the round goes to the bank as three columns (series, seconds,
values: :meth:`~selfheal_ml.anomaly.bank.DetectorBank.score_round`) and is scored across its
shards, a late or non-finite point is skipped (neither scored nor learned) and a score row is
a plain tuple.
:func:`anomalies` turns the flagged points into explained ``AnomalyDetected`` events and the
records the anomaly store keeps of them. Both are CPU work without I/O;
:func:`score_round` is heavy enough to run off the event loop (``run_blocking``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from selfheal_ml import metric_catalogue as mc
from selfheal_ml.anomaly import PointScore
from selfheal_ml.anomaly.alert_policy import anomaly_severity
from selfheal_ml.anomaly.bank import epoch_seconds
from selfheal_ml.anomaly.explain import explain
from selfheal_ml.events import AnomalyDetected, MetricPoint
from selfheal_ml.scoring import Rejected, ShardedBank
from selfheal_ml.storage.anomalies import AnomalyRecord, AnomalyStore, ScoreRow

Flagged = list[tuple[MetricPoint, PointScore]]


def score_round(
    bank: ShardedBank, points: Sequence[MetricPoint], log: logging.Logger
) -> tuple[Flagged, list[ScoreRow]]:
    """Score a round; the anomalous points with their verdicts, and every score row."""
    seconds: dict[datetime, float] = {}
    series: list[str] = []
    stamps: list[float] = []
    values: list[float] = []
    add_series, add_stamp, add_value = series.append, stamps.append, values.append
    last_ts: datetime | None = None
    ts_s = 0.0
    for point in points:
        ts = point.ts
        if ts is not last_ts:  # a collector's points share one datetime: no hash per point
            known = seconds.get(ts)
            ts_s = seconds[ts] = epoch_seconds(ts) if known is None else known
            last_ts = ts
        add_series(point.series)
        add_stamp(ts_s)
        add_value(point.value)
    flagged: Flagged = []
    rows: list[ScoreRow] = []
    add_row = rows.append
    for point, verdict in zip(points, bank.score_columns(series, stamps, values), strict=True):
        if isinstance(verdict, Rejected):  # a late or non-finite point: skipped, not learned
            log.debug("skipped %s: %s", point.series, verdict.reason)
            continue
        if verdict.is_anomaly:  # a metric's good news is never flagged (SeriesScorer.rises_only)
            flagged.append((point, verdict))
            anomalous = True
        else:
            anomalous = False
        add_row(
            (point.series, point.ts, point.value, verdict.score, verdict.calibrated,
             anomalous, verdict.expected_low, verdict.expected_high)
        )  # fmt: skip
    return flagged, rows


def anomalies(flagged: Flagged, source: str) -> tuple[list[AnomalyDetected], list[AnomalyRecord]]:
    """The events announcing the flagged points, and the anomaly store's records of them."""
    events: list[AnomalyDetected] = []
    records: list[AnomalyRecord] = []
    for point, verdict in flagged:
        event = _anomaly(point, verdict, source)
        events.append(event)
        records.append(_record(event, verdict))
    return events, records


def store_round(
    store: AnomalyStore, flagged: Flagged, rows: list[ScoreRow], source: str
) -> tuple[list[AnomalyDetected], int, int]:
    """Store a scored round's rows and anomalies at once; the events, rows and anomalies."""
    produced, records = anomalies(flagged, source)
    store.note_latest(rows)
    store.append_score_rows(rows)
    if records:
        store.record_anomalies(records)
    return produced, len(rows), len(records)


def score_and_store(
    bank: ShardedBank,
    store: AnomalyStore,
    points: Sequence[MetricPoint],
    log: logging.Logger,
    source: str,
) -> tuple[list[AnomalyDetected], int, int]:
    """Score a round, then :func:`store_round` it."""
    return store_round(store, *score_round(bank, points, log), source)


def _anomaly(point: MetricPoint, verdict: PointScore, source: str) -> AnomalyDetected:
    return AnomalyDetected(
        ts=point.ts,
        source=source,
        series=point.series,
        value=point.value,
        score=verdict.calibrated,
        expected_low=_finite_or(verdict.expected_low, float("-1e308")),
        expected_high=_finite_or(verdict.expected_high, float("1e308")),
        detector=verdict.component,
        severity=anomaly_severity(
            verdict.calibrated,
            per_request=point.series.split("{", 1)[0] in mc.ALERT_FROM_WARNING_SCORE,
            inside_expected=_inside(point.value, verdict),
        ),
        labels=dict(point.labels),
        explanation=explain(point.series, point.value, verdict),
    )


def _inside(value: float, verdict: PointScore) -> bool:
    """Whether ``value`` lies within the verdict's expected range (both ends known)."""
    low, high = verdict.expected_low, verdict.expected_high
    return low is not None and high is not None and low <= value <= high


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
