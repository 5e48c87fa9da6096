"""Revisions: an incident's diagnoses are numbered, and a new one is due only when it says more.

The Diagnostic agent diagnoses an incident again whenever new evidence arrived; a revision is
published only when the top root-cause candidate moved, and never for an incident that nothing
explains and that broke no threshold (a group of anomalies stays anomalies).

>>> from datetime import UTC, datetime
>>> from selfheal_ml.diagnosis.grouping import OpenIncident
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> book = RevisionBook()
>>> book.next_revision(OpenIncident("i1", "c1", t0, t0), []) is None  # unexplained, no alert
True
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from selfheal_ml.diagnosis.grouping import OpenIncident
from selfheal_ml.diagnosis.root_cause import Candidate


class RevisionBook:
    """Per incident: the number of its last revision and the top cause that revision named."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.top_cause: dict[str, str] = {}

    def next_revision(self, incident: OpenIncident, candidates: Sequence[Candidate]) -> int | None:
        """The number of the incident's next revision, recorded as published; ``None`` when
        none is due (see the module docstring). Call it before marking the incident diagnosed:
        an incident never diagnosed before always gets one when something explains it."""
        incident_id = incident.incident_id
        top = candidates[0].label if candidates else "unknown"
        unchanged = incident.diagnosed_at is not None and self.top_cause.get(incident_id) == top
        if unchanged or (
            not candidates and all(o.source != "alert" for o in incident.observations)
        ):
            return None
        self.top_cause[incident_id] = top
        number = self.numbers[incident_id] = self.numbers.get(incident_id, 0) + 1
        return number

    def forget(self, open_ids: Container[str]) -> None:
        """Drop the incidents no longer open (closed, or merged into another)."""
        for book in (self.numbers, self.top_cause):
            for incident_id in [key for key in book if key not in open_ids]:
                del book[incident_id]
