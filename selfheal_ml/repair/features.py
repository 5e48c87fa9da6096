"""Incident features: a total function from an :class:`IncidentRecord` to a flat dict.

Every feature is a finite float, and every incident gets every feature (absent symptoms are
0), so the model's input schema, the API body and the MLflow signature are one fixed list,
:data:`FEATURE_NAMES`:

- ``<family>_up`` / ``<family>_down``: the strongest movement of each symptom family
  (request rate, latency, 5xx and 4xx errors, auth, background job, CPU, memory, disk, business
  events, database up/latency/connections/slow queries, cache hit ratio, Redis memory), as a
  magnitude on the calibrated z-like scale, capped at 50;
- ``platforms_anomalous``, ``dependencies_anomalous``, ``signals_count``, ``max_score``:
  how wide and how strong the incident is;
- ``config_change_recent`` (a change within 30 min before opening) and
  ``config_change_age_h`` (capped at 24, 24 when none);
- ``hour_sin``, ``hour_cos``, ``weekend``: time of day and week (UTC);
- ``similar_incidents_7d``: recurrence of the same signature.

>>> from datetime import UTC, datetime
>>> from selfheal_ml.repair.incident import Signal
>>> record = IncidentRecord(
...     opened_at=datetime(2026, 1, 5, 6, tzinfo=UTC),
...     signals=(Signal("db_up", -30.0, dependency="postgres"),),
...     config_change_age_s=600.0,
... )
>>> features = incident_features(record)
>>> features["db_up_down"], features["config_change_recent"], round(features["hour_sin"], 3)
(30.0, 1.0, 1.0)
>>> len(features) == len(FEATURE_NAMES)
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING

from selfheal_ml.repair.incident import (
    ANOMALOUS_SCORE,
    FAMILIES,
    IncidentRecord,
    anomalous_platforms,
    family_strengths,
    finite_score,
)

if TYPE_CHECKING:
    import pandas as pd

RECENT_CHANGE_S = 1800.0
CHANGE_AGE_CAP_H = 24.0

SYMPTOM_FEATURES: tuple[str, ...] = tuple(
    f"{family}_{direction}" for family in FAMILIES for direction in ("up", "down")
)
CONTEXT_FEATURES: tuple[str, ...] = (
    "platforms_anomalous",
    "dependencies_anomalous",
    "signals_count",
    "max_score",
    "config_change_recent",
    "config_change_age_h",
    "hour_sin",
    "hour_cos",
    "weekend",
    "similar_incidents_7d",
)
FEATURE_NAMES: tuple[str, ...] = SYMPTOM_FEATURES + CONTEXT_FEATURES


def _change_features(age_s: float | None) -> dict[str, float]:
    if age_s is None or math.isnan(age_s) or age_s < 0:
        return {"config_change_recent": 0.0, "config_change_age_h": CHANGE_AGE_CAP_H}
    age_h = min(CHANGE_AGE_CAP_H, age_s / 3600.0)
    return {"config_change_recent": float(age_s <= RECENT_CHANGE_S), "config_change_age_h": age_h}


def _time_features(record: IncidentRecord) -> dict[str, float]:
    opened = record.opened_at
    opened = opened.replace(tzinfo=UTC) if opened.tzinfo is None else opened.astimezone(UTC)
    angle = 2.0 * math.pi * (opened.hour + opened.minute / 60.0) / 24.0
    return {
        "hour_sin": math.sin(angle),
        "hour_cos": math.cos(angle),
        "weekend": float(opened.weekday() >= 5),
    }


def incident_features(record: IncidentRecord) -> dict[str, float]:
    """The flat feature dict of one incident (keys in :data:`FEATURE_NAMES` order)."""
    strengths = family_strengths(record)
    features = {name: strengths.get(name, 0.0) for name in SYMPTOM_FEATURES}
    scores = [abs(finite_score(signal.score)) for signal in record.signals]
    dependencies = {
        signal.dependency
        for signal in record.signals
        if signal.dependency is not None and abs(finite_score(signal.score)) >= ANOMALOUS_SCORE
    }
    features["platforms_anomalous"] = float(len(anomalous_platforms(record)))
    features["dependencies_anomalous"] = float(len(dependencies))
    features["signals_count"] = float(len(record.signals))
    features["max_score"] = max(scores, default=0.0)
    features.update(_change_features(record.config_change_age_s))
    features.update(_time_features(record))
    features["similar_incidents_7d"] = float(max(0, record.similar_incidents_7d))
    return {name: features[name] for name in FEATURE_NAMES}


def feature_frame(rows: Iterable[Mapping[str, float]]) -> pd.DataFrame:
    """Feature dicts as a float DataFrame with exactly :data:`FEATURE_NAMES` as columns.

    Missing features are 0; unknown keys are dropped.

    >>> feature_frame([{"cpu_up": 3.0}]).loc[0, ["cpu_up", "disk_up"]].tolist()
    [3.0, 0.0]
    """
    import pandas as pd  # only the model's input needs a frame; the API reads the names

    frame = pd.DataFrame(list(rows), columns=list(FEATURE_NAMES))
    return frame.fillna(0.0).astype("float64")
