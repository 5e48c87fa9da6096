"""Attack incidents: the Security agent's confirmed findings as incidents of the one lifecycle.

A confirmed attack (a ``critical`` :class:`~selfheal_ml.events.SecurityThreatDetected`) is
already explained: the finding names its kind, its sources and its evidence lines. What the
incident adds is the lifecycle everyone else reads (dashboard, API, history): one incident per
attack on a platform, diagnosed at once with the attack's kind as root cause on that platform
(``brute_force@shop``; ``@platform`` when the log does not say which), ``block_ip`` as the
strategy and ``enforced_by="Security"`` (the Security agent's bans are the repair; the Repair
agent leaves it alone).

:class:`AttackBook` holds the open ones, pure and clock-free:

- a finding joins the open attack incident of its platform, else opens one; a new revision is
  due when the joining kind outranks the root cause (:data:`CAUSE_RANK`: a distributed brute
  force explains the per-address brute-force findings of its 40 addresses, not the reverse);
- a ban (``IpBlocked``, correlated with its finding) makes the incident *verifying*;
- it is *resolved* when every address banned for it has stopped (``AttackStopped``: silent
  while its ban held), or when its bans ran out ``quiet_s`` ago and nothing was found since (an
  attacker still at it after a ban is found again within seconds and banned for longer);
- one that is quiet for ``quiet_s`` and was never banned (an API key misuse, a dry run, a
  never-ban source) is *escalated*: a person has to act;
- one *handed over* is the same trouble as a Monitor incident (``attack_merge.py``: a brute
  force's failed logins on the platform's metrics): one incident id for both, whose lifecycle
  the Monitor's diagnosis and the Repair agent carry from then on. Its findings still join it
  (silently) until that incident closes (:meth:`AttackBook.release`).

>>> from datetime import UTC, datetime, timedelta
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> book = AttackBook()
>>> incident, revised = book.found("brute_force", "203.0.113.5", "shop", start, "c1", ("l1",))
>>> revised, attack_diagnosis(incident, 1).label
(True, 'brute_force@shop')
>>> book.banned("c1", "203.0.113.5", start + timedelta(minutes=10)) is incident
True
>>> book.stopped("203.0.113.5") is incident, incident.resolved
(True, True)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml.events import new_id
from selfheal_ml.lifecycle import CauseCandidate, Diagnosis, Impact

ENFORCED_BY = "Security"
UNKNOWN_PLATFORM = "platform"
#: Root-cause precedence (first wins): the campaign over the per-address findings it causes.
CAUSE_RANK = (
    "distributed_brute_force", "credential_stuffing", "brute_force", "slow_brute_force",
    "injection", "scraping", "api_key_misuse",
)  # fmt: skip
#: Kinds a ban answers; the others (a leaked API key) need a person.
BANNABLE = frozenset(CAUSE_RANK) - {"api_key_misuse"}
EVIDENCE_LINES = 5
QUIET_S = 600.0


def _rank(kind: str) -> int:
    return CAUSE_RANK.index(kind) if kind in CAUSE_RANK else len(CAUSE_RANK)


@dataclass
class AttackIncident:
    """One attack on one platform, as the Diagnostic agent tracks it."""

    platform: str
    opened_at: datetime
    correlation_id: str
    incident_id: str = field(default_factory=new_id)
    kinds: Counter[str] = field(default_factory=Counter)
    sources: set[str] = field(default_factory=set)
    bans: dict[str, datetime] = field(default_factory=dict)  # address -> until
    stopped: set[str] = field(default_factory=set)
    evidence: list[str] = field(default_factory=list)
    last_found_at: datetime | None = None
    published_cause: str | None = None
    revision: int = 0
    handed_over: bool = False  # its lifecycle belongs to a Monitor incident of the same id

    @property
    def root_cause(self) -> str:
        """The highest-ranked kind among its findings (:data:`CAUSE_RANK`)."""
        return min(self.kinds, key=_rank)

    @property
    def resolved(self) -> bool:
        """Every address banned for it has stopped while banned."""
        return bool(self.bans) and self.stopped >= set(self.bans)


def attack_diagnosis(incident: AttackIncident, revision: int) -> Diagnosis:
    """The incident's diagnosis as revision ``revision`` (see the module docstring)."""
    cause = incident.root_cause
    component = incident.platform or UNKNOWN_PLATFORM
    platforms = (incident.platform,) if incident.platform else ()
    strategy = "block_ip" if cause in BANNABLE else None
    counts = _counts(incident)
    summary = attack_summary(incident)
    evidence = tuple(incident.evidence[-EVIDENCE_LINES:])
    return Diagnosis(
        revision=revision, opened_at=incident.opened_at, root_cause=cause, component=component,
        target_platform=incident.platform or None, platforms=platforms, severity="critical",
        strategy=strategy, known_fix=strategy, confidence=1.0, evidence=evidence,
        summary=summary, signature=f"attack|{cause}",
        candidates=(CauseCandidate(cause=cause, component=component, score=1.0, fit=1.0,
                                   strategy=strategy or "", evidence=evidence),),
        impact=Impact(platforms=platforms, text=f"attack on {component}"),
        findings=(counts,), enforced_by=ENFORCED_BY,
    )  # fmt: skip


def _counts(incident: AttackIncident) -> str:
    return ", ".join(f"{kind} x{count}" for kind, count in incident.kinds.most_common())


def attack_summary(incident: AttackIncident) -> str:
    """One line: the root cause, where, from which sources, which findings."""
    sources = sorted(incident.sources)
    shown = ", ".join(sources[:5]) + (f" and {len(sources) - 5} more" if len(sources) > 5 else "")
    component = incident.platform or UNKNOWN_PLATFORM
    return f"{incident.root_cause} on {component} from {shown} (findings: {_counts(incident)})"


class AttackBook:
    """The open attack incidents (module docstring)."""

    def __init__(self, quiet_s: float = QUIET_S) -> None:
        self.quiet = timedelta(seconds=quiet_s)
        self.open: dict[str, AttackIncident] = {}  # platform -> incident
        self._by_correlation: dict[str, AttackIncident] = {}

    def found(
        self,
        kind: str,
        value: str,
        platform: str,
        at: datetime,
        correlation_id: str,
        evidence: tuple[str, ...] = (),
    ) -> tuple[AttackIncident, bool]:
        """A confirmed finding: its incident, and whether a (new) revision is due."""
        incident = self.open.get(platform)
        if incident is None:
            incident = self.open[platform] = AttackIncident(platform, at, correlation_id)
        incident.kinds[kind] += 1
        incident.sources.add(value)
        incident.evidence = [*incident.evidence, *evidence][-EVIDENCE_LINES:]
        incident.last_found_at = at
        self._by_correlation[correlation_id] = incident
        return (
            incident,
            not incident.handed_over and incident.root_cause != incident.published_cause,
        )

    def join(self, platform: str, incident_id: str, correlation_id: str, at: datetime) -> None:
        """Open the attack on ``platform`` as part of the (already diagnosed) Monitor incident
        ``incident_id``: handed over from the start, never published on its own."""
        if platform not in self.open:
            self.open[platform] = AttackIncident(
                platform, at, correlation_id, incident_id=incident_id, handed_over=True
            )

    def release(self, open_ids: set[str]) -> list[AttackIncident]:
        """Close (and return) the handed-over incidents whose Monitor incident is no longer
        open (resolved, recovered or gone quiet)."""
        over = [
            incident
            for incident in self.open.values()
            if incident.handed_over and incident.incident_id not in open_ids
        ]
        for incident in over:
            self.close(incident)
        return over

    def handed_over(self, incident_id: str) -> AttackIncident | None:
        """The open handed-over attack incident with this id, if any."""
        for incident in self.open.values():
            if incident.handed_over and incident.incident_id == incident_id:
                return incident
        return None

    def published(self, incident: AttackIncident) -> int:
        """Note that the incident's current root cause was published; its revision number."""
        incident.revision += 1
        incident.published_cause = incident.root_cause
        return incident.revision

    def banned(self, correlation_id: str, address: str, until: datetime) -> AttackIncident | None:
        """A ban for a finding (by its correlation id): the incident it belongs to, if open."""
        incident = self._by_correlation.get(correlation_id)
        if incident is None or self.open.get(incident.platform) is not incident:
            return None
        incident.bans[address] = until
        incident.stopped.discard(address)  # a new ban: watched again
        return incident

    def stopped(self, address: str) -> AttackIncident | None:
        """A banned address went quiet: the open incident it was banned for, if any."""
        for incident in self.open.values():
            if address in incident.bans:
                incident.stopped.add(address)
                return incident
        return None

    def unanswered(self, now: datetime) -> list[AttackIncident]:
        """Open incidents quiet for ``quiet_s`` and never banned (to escalate)."""
        return [
            incident
            for incident in self.open.values()
            if not incident.handed_over
            and not incident.bans
            and self._quiet_since(incident.last_found_at, now)
        ]

    def lapsed(self, now: datetime) -> list[AttackIncident]:
        """Open incidents whose bans ran out ``quiet_s`` ago with no finding since (over)."""
        return [
            incident
            for incident in self.open.values()
            if incident.bans
            and not incident.handed_over
            and self._quiet_since(max(incident.bans.values()), now)
            and self._quiet_since(incident.last_found_at, now)
        ]

    def _quiet_since(self, moment: datetime | None, now: datetime) -> bool:
        return moment is not None and now - moment >= self.quiet

    def close(self, incident: AttackIncident) -> None:
        """Take the incident out of the book (resolved or escalated): later findings on its
        platform open a new one."""
        if self.open.get(incident.platform) is incident:
            del self.open[incident.platform]
        self._by_correlation = {
            key: value for key, value in self._by_correlation.items() if value is not incident
        }
