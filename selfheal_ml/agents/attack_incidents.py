"""The Diagnostic agent's attack incidents: ``system.security`` events in, lifecycle events out.

The bookkeeping is :class:`~selfheal_ml.diagnosis.attacks.AttackBook` (pure); this turns the
Security agent's events into it and its answers into the events everyone reads:

- a confirmed ``SecurityThreatDetected`` -> ``IncidentDiagnosed`` (revision 1, or a new
  revision when a higher-ranked kind joins);
- the first ``IpBlocked`` of an incident -> ``IncidentStatusChanged(verifying)``;
- ``AttackStopped`` for its last banned address -> ``IncidentStatusChanged(resolved)``;
- on a health tick, an incident quiet with no ban in force -> ``IncidentStatusChanged
  (escalated)``.

Warnings (an unusual access pattern, a scraping burst) stay findings: they open no incident.
"""

from __future__ import annotations

from datetime import datetime

from selfheal_ml.diagnosis.attacks import QUIET_S, AttackBook, AttackIncident, attack_diagnosis
from selfheal_ml.events import (
    AttackStopped,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    IpBlocked,
    SecurityThreatDetected,
)
from selfheal_ml.lifecycle import IncidentStatus

SecurityEvent = SecurityThreatDetected | IpBlocked | AttackStopped


class AttackIncidents:
    """Attack incidents of the Diagnostic agent (module docstring)."""

    def __init__(self, source: str, quiet_s: float = QUIET_S) -> None:
        self.source = source
        self.book = AttackBook(quiet_s)
        self.opened = 0
        self._verifying: set[str] = set()

    def handle(self, event: SecurityEvent) -> list[Event]:
        """The lifecycle events that ``event`` causes."""
        if isinstance(event, SecurityThreatDetected):
            return self._threat(event)
        if isinstance(event, IpBlocked):
            incident = self.book.banned(event.correlation_id, event.source_ip, event.until)
            if incident is None or incident.incident_id in self._verifying:
                return []
            self._verifying.add(incident.incident_id)
            until = f"{event.until:%Y-%m-%d %H:%M:%S}"
            reason = f"banned {event.source_ip} until {until}; waiting for the attack to stop"
            return [self._status(incident, IncidentStatus.VERIFYING, event.ts, reason)]
        incident = self.book.stopped(event.source_ip)
        if incident is None or not incident.resolved:
            return []
        reason = (f"every banned address ({len(incident.bans)}) went quiet for"
                  f" {event.quiet_s:.0f} s while banned")  # fmt: skip
        return [self._close(incident, IncidentStatus.RESOLVED, event.ts, reason)]

    def on_tick(self, now: datetime) -> list[Event]:
        """Escalate the incidents no ban answers (quiet, no ban in force)."""
        reason = "attack not blocked (no ban in force): a person has to act"
        escalated = IncidentStatus.ESCALATED
        return [self._close(one, escalated, now, reason) for one in self.book.unanswered(now)]

    def _threat(self, event: SecurityThreatDetected) -> list[Event]:
        if event.severity != "critical":
            return []  # a warning, not a confirmed attack
        lines = tuple(line for line in event.evidence.splitlines() if line)
        incident, revised = self.book.found(
            event.kind, event.value or event.source_ip, event.platform, event.ts,
            event.correlation_id, lines,
        )  # fmt: skip
        if not revised:
            return []
        revision = self.book.published(incident)
        self.opened += revision == 1
        return [
            IncidentDiagnosed(
                ts=event.ts,
                source=self.source,
                correlation_id=incident.correlation_id,
                incident_id=incident.incident_id,
                diagnosis=attack_diagnosis(incident, revision),
            )
        ]

    def _close(
        self, incident: AttackIncident, status: IncidentStatus, now: datetime, reason: str
    ) -> Event:
        self.book.close(incident)
        self._verifying.discard(incident.incident_id)
        return self._status(incident, status, now, reason)

    def _status(
        self, incident: AttackIncident, status: IncidentStatus, now: datetime, reason: str
    ) -> Event:
        return IncidentStatusChanged(
            ts=now, source=self.source, correlation_id=incident.correlation_id,
            incident_id=incident.incident_id, status=status, reason=reason,
        )  # fmt: skip
