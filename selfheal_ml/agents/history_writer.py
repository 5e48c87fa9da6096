"""What the agents write to the incident history for each event.

- ``IncidentDiagnosed`` (the Diagnostic agent, before it publishes the revision): the typed
  diagnosis becomes the incident record (root cause, platforms, severity, signals, features)
  and a row of ``incident_revisions``;
- ``IncidentStatusChanged`` (the Learning agent, like the next): the lifecycle status and its
  reason, as the Repair agent decided;
- ``RepairExecuted``: the attempt and its verified outcome; ``worked`` closes and labels the
  incident, and a verified outcome updates the playbook of the incident's signature (attempts,
  successes, Wilson interval), in DuckDB so that it survives restarts.

Every method reads or writes DuckDB: call it off the event loop (``run_blocking``).
"""

from __future__ import annotations

from dataclasses import dataclass

from selfheal_ml.events import IncidentDiagnosed, IncidentStatusChanged, RepairExecuted
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.training.history import attempt_record, diagnosed_incident, executed_incident


@dataclass
class HistoryWriter:
    """Writes diagnoses, status changes and repair outcomes to an :class:`IncidentStore`."""

    store: IncidentStore

    def record(self, event: IncidentDiagnosed | IncidentStatusChanged | RepairExecuted) -> None:
        """Write ``event`` to the history (see the module docstring)."""
        store = self.store
        if isinstance(event, IncidentDiagnosed):
            store.record_diagnosis(diagnosed_incident(event), event.diagnosis, event.ts)
        elif isinstance(event, IncidentStatusChanged):
            store.record_status(event.incident_id, event.status, event.ts, event.reason)
        else:
            self._record_repair(event)

    def _record_repair(self, event: RepairExecuted) -> None:
        store = self.store
        store.open_incident(executed_incident(event))
        store.record_attempt(event.incident_id, attempt_record(event))
        if event.outcome in ("worked", "did_not_work"):
            signature = store.signature_of(event.incident_id) or f"unknown|{event.target}"
            store.update_playbook(
                signature, event.action, worked=event.outcome == "worked", ts=event.ts
            )
