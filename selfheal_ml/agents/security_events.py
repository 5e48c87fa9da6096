"""The Security agent's events, built from its findings, ban decisions and quiet bans.

- :func:`threat_event`: one ``SecurityThreatDetected`` per finding (``critical`` for a
  confirmed attack, which the AlertManager turns into a critical alert; ``warning`` for an
  unusual pattern), with the last few evidence lines;
- :func:`block_event`: one ``IpBlocked`` per enforced ban, sharing its finding's correlation id;
- :func:`stopped_event`: one ``AttackStopped`` per banned address that went quiet.
"""

from __future__ import annotations

from datetime import datetime

from selfheal_ml.events import AttackStopped, IpBlocked, SecurityThreatDetected, Severity, new_id
from selfheal_ml.security.ban_policy import BanDecision
from selfheal_ml.security.ban_watch import QuietSource
from selfheal_ml.security.findings import Finding, Scope

EVIDENCE_IN_EVENT = 3


def threat_event(
    finding: Finding, now: datetime, source: str, correlation_id: str
) -> SecurityThreatDetected:
    """The announcement of one finding."""
    severity: Severity = "critical" if finding.confirmed_attack else "warning"
    return SecurityThreatDetected(
        ts=now,
        source=source,
        correlation_id=correlation_id,
        kind=finding.kind.value,
        source_ip=finding.value if finding.scope is Scope.IP else "",
        severity=severity,
        evidence="\n".join(finding.evidence[-EVIDENCE_IN_EVENT:]),
        scope=finding.scope.value,
        value=finding.value,
        first_seen=finding.first_seen,
        event_count=finding.event_count,
        platform=finding.platform,
    )


def block_event(
    decision: BanDecision, now: datetime, source: str, correlation_id: str
) -> IpBlocked:
    """The announcement of one enforced ban."""
    return IpBlocked(
        ts=now,
        source=source,
        correlation_id=correlation_id,
        source_ip=decision.value,
        until=decision.until,
        reason=f"{decision.reason.value} (offence {decision.offence})",
    )


def stopped_event(quiet: QuietSource, now: datetime, source: str, quiet_s: float) -> AttackStopped:
    """The announcement that a banned address has sent nothing for ``quiet_s``."""
    return AttackStopped(
        ts=now,
        source=source,
        correlation_id=quiet.correlation_id or new_id(),
        source_ip=quiet.address,
        banned_at=quiet.banned_at,
        last_seen=quiet.last_seen,
        until=quiet.until,
        quiet_s=quiet_s,
    )
