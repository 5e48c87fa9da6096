"""The Diagnostic agent's attack incidents: ``system.security`` events in, lifecycle events out.

The bookkeeping is :class:`~selfheal_ml.diagnosis.attacks.AttackBook` (pure); this turns the
Security agent's events into it and its answers into the events everyone reads:

- a confirmed ``SecurityThreatDetected`` -> ``IncidentDiagnosed`` at once (revision 1, or a
  new revision when a higher-ranked kind joins);
- ``IpBlocked`` and ``AttackStopped`` are noted; on the next health tick an incident with a
  ban becomes ``IncidentStatusChanged(verifying)``, one whose banned addresses have all
  stopped (or whose bans ran out with nothing found since) ``resolved``, and one quiet and
  never banned ``escalated``;
- one attack is one incident: :meth:`AttackIncidents.join_diagnosed` and
  :meth:`AttackIncidents.hand_over` merge it with the Monitor's incident of the same attack
  (:mod:`selfheal_ml.diagnosis.attack_merge`).

The status changes wait for the tick because subscribers get each event type through their
own queue: a status change published right behind its incident's first diagnosis could be
written to the history before the diagnosis is. (The agent takes the ``system.security``
channel through one queue, so a ban is never seen before its finding.) Warnings (an unusual
access pattern, a scraping burst) stay findings: they open no incident.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from selfheal_ml.diagnosis.attack_merge import same_attack
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

if TYPE_CHECKING:
    from selfheal_ml.diagnosis import IncidentGrouper

SecurityEvent = SecurityThreatDetected | IpBlocked | AttackStopped


class AttackIncidents:
    """Attack incidents of the Diagnostic agent (module docstring)."""

    def __init__(self, source: str, quiet_s: float = QUIET_S) -> None:
        self.source = source
        self.book = AttackBook(quiet_s)
        self.opened = 0
        self.quiet_s = 0.0  # the Security agent's, from its AttackStopped
        self._verifying: set[str] = set()

    def join_diagnosed(
        self, threat: SecurityThreatDetected, grouper: IncidentGrouper, published: dict[str, int]
    ) -> None:
        """A confirmed attack on a platform whose Monitor incident of the same attack is already
        diagnosed (``published``: incident id -> revisions published) joins that incident."""
        platform = threat.platform
        if threat.severity != "critical" or not platform or platform in self.book.open:
            return
        diagnosed = [i for i in grouper.open.values() if i.incident_id in published]
        monitor = same_attack(diagnosed, platform, threat.ts, grouper.window)
        if monitor is not None:
            self.book.join(platform, monitor.incident_id, monitor.correlation_id, threat.ts)

    def hand_over(
        self, grouper: IncidentGrouper, published: dict[str, int], log: logging.Logger
    ) -> None:
        """A Monitor incident with no published diagnosis that is an open attack takes the
        attack incident's ids; its diagnosis will be the attack incident's next revision."""
        # not published yet (a diagnosis that explained nothing published nothing: seen on dev
        # seed 2001, a Monitor incident open since noise)
        undiagnosed = [i for i in grouper.open.values() if i.incident_id not in published]
        if not undiagnosed:
            return
        for attack in self.book.open.values():
            if attack.handed_over:
                continue
            at = attack.last_found_at or attack.opened_at
            monitor = same_attack(undiagnosed, attack.platform, at, grouper.window)
            if monitor is None:
                continue
            grouper.rekey(monitor.incident_id, attack.incident_id, attack.correlation_id)
            published[attack.incident_id] = attack.revision
            attack.handed_over = True
            undiagnosed.remove(monitor)
            log.info("incident %s: the Monitor's signs of attack %s on %s joined it",
                     attack.incident_id, attack.root_cause, attack.platform)  # fmt: skip

    def handle(self, event: SecurityEvent) -> list[Event]:
        """The diagnosis ``event`` causes, if any (bans and stops wait for the tick)."""
        if isinstance(event, SecurityThreatDetected):
            return self._threat(event)
        if isinstance(event, IpBlocked):
            self.book.banned(event.correlation_id, event.source_ip, event.until)
        else:
            self.quiet_s = event.quiet_s
            self.book.stopped(event.source_ip)
        return []

    def on_tick(self, now: datetime) -> list[Event]:
        """Move the open attack incidents along their lifecycle (module docstring)."""
        produced: list[Event] = []
        for incident in list(self.book.open.values()):
            if incident.handed_over:
                continue  # the Monitor incident of the same id carries it (attack_merge.py)
            if incident.resolved:
                reason = (f"every banned address ({len(incident.bans)}) went quiet for"
                          f" {self.quiet_s:.0f} s while banned")  # fmt: skip
                produced.append(self._close(incident, IncidentStatus.RESOLVED, now, reason))
            elif incident.bans and incident.incident_id not in self._verifying:
                self._verifying.add(incident.incident_id)
                produced.append(
                    self._status(incident, IncidentStatus.VERIFYING, now, _banned(incident))
                )
        resolved, escalated = IncidentStatus.RESOLVED, IncidentStatus.ESCALATED
        reason = f"bans ran out {self.book.quiet.total_seconds():.0f} s ago; nothing found since"
        produced += [self._close(one, resolved, now, reason) for one in self.book.lapsed(now)]
        reason = "attack not blocked (no ban): a person has to act"
        produced += [self._close(one, escalated, now, reason) for one in self.book.unanswered(now)]
        return produced

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


def _banned(incident: AttackIncident) -> str:
    addresses = sorted(incident.bans)
    shown = ", ".join(addresses[:3]) + (
        f" and {len(addresses) - 3} more" if len(addresses) > 3 else ""
    )
    until = max(incident.bans.values())
    return f"banned {shown} until {until:%Y-%m-%d %H:%M:%S}; waiting for the attack to stop"
