"""Similar past incidents: nearest neighbours in the learning issue's feature space.

Incidents are compared on their symptom features (the strongest movement of each symptom
family, capped at 50) plus how wide they were (platforms and dependencies involved), by cosine
similarity: two incidents with the same symptoms in the same proportions are alike whatever
their absolute strengths. Time-of-day and recurrence features are left out on purpose: they say
when, not what.

>>> past = [PastIncident("p1", None, "db_unreachable", "restore_from_backup", "resolved",
...                      {"db_up_down": 30.0, "latency_up": 9.0}),
...         PastIncident("p2", None, "disk_filling", "clear_temp_files", "resolved",
...                      {"disk_up": 12.0})]
>>> [match.incident_id for match in most_similar({"db_up_down": 20.0, "latency_up": 5.0}, past)]
['p1']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from selfheal_ml.repair.features import SYMPTOM_FEATURES

COMPARED: tuple[str, ...] = (*SYMPTOM_FEATURES, "platforms_anomalous", "dependencies_anomalous")
MIN_SIMILARITY = 0.5


@dataclass(frozen=True)
class PastIncident:
    """One incident of the history, with its features and how it ended."""

    incident_id: str
    opened_at: datetime | None
    root_cause: str | None
    resolved_by: str | None
    status: str | None
    features: Mapping[str, float]
    signature: str | None = None


@dataclass(frozen=True)
class SimilarIncident:
    """A past incident and how alike it is (cosine similarity in [0, 1])."""

    incident_id: str
    opened_at: datetime | None
    similarity: float
    root_cause: str | None
    resolved_by: str | None
    status: str | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "incident_id": self.incident_id,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "similarity": self.similarity,
            "root_cause": self.root_cause,
            "resolved_by": self.resolved_by,
            "status": self.status,
        }


def _vector(features: Mapping[str, float]) -> np.ndarray:
    return np.array([float(features.get(name, 0.0)) for name in COMPARED])


def most_similar(
    features: Mapping[str, float],
    history: Sequence[PastIncident],
    k: int = 3,
    min_similarity: float = MIN_SIMILARITY,
) -> list[SimilarIncident]:
    """The ``k`` most similar past incidents at or above ``min_similarity``, best first."""
    if not history:
        return []
    query = _vector(features)
    norm = float(np.linalg.norm(query))
    if norm == 0.0:
        return []
    matrix = np.vstack([_vector(item.features) for item in history])
    norms = np.linalg.norm(matrix, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = np.where(norms > 0, matrix @ query / (norms * norm), 0.0)
    order = np.argsort(-similarity, kind="stable")[:k]
    return [
        SimilarIncident(
            incident_id=history[index].incident_id,
            opened_at=history[index].opened_at,
            similarity=round(float(similarity[index]), 4),
            root_cause=history[index].root_cause,
            resolved_by=history[index].resolved_by,
            status=history[index].status,
        )
        for index in order.tolist()
        if similarity[index] >= min_similarity
    ]
