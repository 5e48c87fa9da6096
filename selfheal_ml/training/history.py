"""Live events to history rows: what the Learning agent writes when incidents happen.

``IncidentDiagnosed`` carries a typed :class:`~selfheal_ml.lifecycle.Diagnosis`: its signals
(metric, signed score, platform, dependency, status class) and features become the history
row; an incident with neither signals nor features gets no features, so it never enters
training; a ``RepairExecuted`` for an incident nobody diagnosed gets such a minimal row, and
each ``RepairExecuted`` is one attempt in the repair log (:func:`attempt_record`).

>>> from datetime import UTC, datetime
>>> from selfheal_ml.events import IncidentDiagnosed
>>> from selfheal_ml.lifecycle import Diagnosis, ObservedSignal
>>> when = datetime(2026, 1, 5, tzinfo=UTC)
>>> event = IncidentDiagnosed(
...     ts=when, source="Diagnostic", incident_id="i1",
...     diagnosis=Diagnosis(revision=1, opened_at=when, platforms=("tackle.io",),
...         signals=(ObservedSignal(metric="host_cpu_percent", score=-9, platform="tackle.io"),)),
... )
>>> diagnosed_incident(event).features["cpu_down"]
9.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from selfheal_ml.events import IncidentDiagnosed, RepairExecuted
from selfheal_ml.lifecycle import ObservedSignal
from selfheal_ml.repair.features import FEATURE_NAMES, incident_features
from selfheal_ml.repair.incident import IncidentRecord, Signal, incident_signature
from selfheal_ml.storage.incidents import HistoryIncident, RepairAttemptRecord


def _signal(observed: ObservedSignal) -> Signal:
    return Signal(
        metric=observed.metric,
        score=float(observed.score),
        platform=observed.platform or None,
        dependency=observed.dependency or None,
        status_class=observed.status_class or None,
    )


def _given_features(given: Mapping[str, float], computed: dict[str, float]) -> dict[str, float]:
    """``computed`` overridden by the valid given values; empty when nothing was observed."""
    if not given:
        return computed if computed.get("signals_count", 0.0) > 0 else {}
    merged = dict(computed)
    for name in FEATURE_NAMES:
        value = given.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            merged[name] = float(value)
    return merged


def diagnosed_incident(event: IncidentDiagnosed) -> HistoryIncident:
    """The history row of a diagnosed incident (its latest revision)."""
    diagnosis = event.diagnosis
    record = IncidentRecord(
        opened_at=diagnosis.opened_at,
        signals=tuple(_signal(signal) for signal in diagnosis.signals),
        platforms=diagnosis.platforms,
    )
    return HistoryIncident(
        incident_id=event.incident_id,
        started_at=None,
        opened_at=diagnosis.opened_at,
        closed_at=None,
        platforms=diagnosis.platforms,
        severity=diagnosis.severity,
        status="diagnosed",
        root_cause=diagnosis.label,
        record=record,
        signature=diagnosis.signature or incident_signature(record),
        features=_given_features(diagnosis.features, incident_features(record)),
    )


def executed_incident(event: RepairExecuted) -> HistoryIncident:
    """A minimal row for an incident first seen through its repair."""
    record = IncidentRecord(opened_at=event.ts, platforms=(event.target,))
    return HistoryIncident(
        incident_id=event.incident_id,
        started_at=None,
        opened_at=event.ts,
        closed_at=None,
        platforms=(event.target,),
        severity="warning",
        status="opened",
        root_cause=None,
        record=record,
        signature=f"unknown|{event.target}",
    )


def attempt_record(event: RepairExecuted) -> RepairAttemptRecord:
    """The repair log's row of one verified attempt (approved by its agent unless a person)."""
    return RepairAttemptRecord(
        ts=event.ts,
        strategy=event.action,
        action=event.action,
        target=event.target,
        approved_by=event.approved_by or event.source,
        outcome=event.outcome,
        verified_at=event.ts,
    )
