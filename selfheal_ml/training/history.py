"""Live events to history rows: what the Learning agent writes when incidents happen.

``IncidentDiagnosed`` carries the grouped anomalies in ``details["signals"]`` (a list of
``{"metric", "score", "platform", "dependency", "status_class"}``) and, optionally, ready
features in ``details["features"]``; anything missing or malformed is simply absent, never an
error. An incident with neither signals nor features gets no features, so it never enters
training; a ``RepairExecuted`` for an incident nobody diagnosed gets such a minimal row.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.events import IncidentDiagnosed
>>> event = IncidentDiagnosed(
...     ts=datetime(2026, 1, 5, tzinfo=UTC), source="Diagnostic", incident_id="i1",
...     platforms=("tackle.io",), root_causes=("service_crash",),
...     details={"signals": [{"metric": "host_cpu_percent", "score": -9, "platform": "tackle.io"}]},
... )
>>> diagnosed_incident(event).features["cpu_down"]
9.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from selfheal_ml.events import IncidentDiagnosed, RepairExecuted
from selfheal_ml.repair.features import FEATURE_NAMES, incident_features
from selfheal_ml.repair.incident import IncidentRecord, Signal, incident_signature
from selfheal_ml.storage.incidents import HistoryIncident


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _signal(raw: Any) -> Signal | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("metric"), str):
        return None
    score = raw.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool):
        return None
    return Signal(
        metric=raw["metric"],
        score=float(score),
        platform=_text(raw.get("platform")),
        dependency=_text(raw.get("dependency")),
        status_class=_text(raw.get("status_class")),
    )


def _given_features(raw: Any, computed: dict[str, float]) -> dict[str, float]:
    """``computed`` overridden by the valid given values; empty when nothing was observed."""
    if not isinstance(raw, Mapping):
        return computed if computed.get("signals_count", 0.0) > 0 else {}
    merged = dict(computed)
    for name in FEATURE_NAMES:
        value = raw.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            merged[name] = float(value)
    return merged


def diagnosed_incident(event: IncidentDiagnosed) -> HistoryIncident:
    """The history row of a diagnosed incident."""
    raw_signals = event.details.get("signals")
    signals = [_signal(raw) for raw in raw_signals] if isinstance(raw_signals, list) else []
    record = IncidentRecord(
        opened_at=event.ts,
        signals=tuple(signal for signal in signals if signal is not None),
        platforms=tuple(event.platforms),
    )
    return HistoryIncident(
        incident_id=event.incident_id,
        started_at=None,
        opened_at=event.ts,
        closed_at=None,
        platforms=tuple(event.platforms),
        severity=str(event.details.get("severity", "warning")),
        status="open",
        root_cause=event.root_causes[0] if event.root_causes else None,
        record=record,
        signature=incident_signature(record),
        features=_given_features(event.details.get("features"), incident_features(record)),
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
        status="open",
        root_cause=None,
        record=record,
        signature=f"unknown|{event.target}",
    )
