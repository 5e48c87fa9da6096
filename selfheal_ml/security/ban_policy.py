"""The ban policy: findings in, ban decisions out, with the safety rails of a ban system.

- Scope: decisions are per address (a finding about an account or an API key is an alert,
  not a ban: banning one address would not stop it, banning all would hurt its owner).
- Duration: ``bantime_s`` for a first offence, multiplied by ``factor`` for each earlier ban
  of the same address, capped at ``max_bantime_s`` (fail2ban's ``bantime.increment``, whose
  default formula doubles; the ``recidive`` jail's week is the default cap).
- Refusals, each recorded with its reason: the address is on the never-ban list, the value
  is not an address (a PAM ``rhost`` host name), or the cap on new bans per minute is reached.
- Dry run (CrowdSec's simulation mode): the decision is recorded as ``would_ban``, counted
  for escalation, never enforced.
- An address already banned is not banned again until its ban expires.

Time comes from the finding (``detected_at``), so a replayed log runs on its own clock.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.security.findings import Finding, FindingKind, Scope
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> finding = Finding(FindingKind.BRUTE_FORCE, Scope.IP, "198.51.100.4", at, at, 5)
>>> decision = BanPolicy().decide(finding)
>>> decision.action.value, decision.duration_s, decision.until.isoformat()
('ban', 600.0, '2026-01-01T00:10:00+00:00')
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.security.never_ban import NeverBanList, parse_address

ORIGIN = "selfheal-ml"


class DecisionAction(StrEnum):
    """What the policy decided."""

    BAN = "ban"
    WOULD_BAN = "would_ban"  # dry run: recorded, not enforced
    REFUSED = "refused"  # see ``refusal``


class Refusal(StrEnum):
    """Why a finding did not become a ban."""

    NEVER_BAN = "never_ban"
    NOT_AN_ADDRESS = "not_an_address"
    BAN_CAP = "ban_cap"


@dataclass(frozen=True)
class BanSettings:
    """The policy's knobs (defaults: fail2ban's bantime, doubling, a week's cap)."""

    bantime_s: float = 600.0
    factor: float = 2.0
    max_bantime_s: float = 7 * 86_400.0
    max_new_bans_per_minute: int = 30
    dry_run: bool = False
    ban_kinds: frozenset[FindingKind] = field(
        default_factory=lambda: frozenset(
            set(FindingKind) - {FindingKind.UNUSUAL_ACCESS, FindingKind.UNUSUAL_REQUEST}
        )
    )


@dataclass(frozen=True)
class BanDecision:
    """One decision about one address, with the finding that led to it."""

    scope: Scope
    value: str
    action: DecisionAction
    reason: FindingKind
    decided_at: datetime
    duration_s: float
    first_seen: datetime
    event_count: int
    offence: int = 1
    refusal: Refusal | None = None
    origin: str = ORIGIN
    evidence: tuple[str, ...] = ()

    @property
    def until(self) -> datetime:
        """When the ban expires."""
        return self.decided_at + timedelta(seconds=self.duration_s)

    @property
    def enforced(self) -> bool:
        """Whether an enforcer should act on it (a real ban, not a dry run or refusal)."""
        return self.action is DecisionAction.BAN

    def active_at(self, now: datetime) -> bool:
        """Whether the (would-)ban is in force at ``now``."""
        return self.action is not DecisionAction.REFUSED and self.decided_at <= now < self.until


class BanPolicy:
    """Turns findings into decisions (module docstring); remembers bans for escalation."""

    def __init__(self, settings: BanSettings | None = None, never_ban: NeverBanList | None = None):
        self.settings = settings or BanSettings()
        self.never_ban = never_ban or NeverBanList()
        self._active: dict[str, BanDecision] = {}
        self._offences: dict[str, int] = {}
        self._recent: deque[datetime] = deque()

    def restore(self, decisions: Iterable[BanDecision]) -> None:
        """Resume from stored decisions (after a restart): offences and bans in force."""
        for decision in sorted(decisions, key=lambda d: d.decided_at):
            if decision.action is DecisionAction.REFUSED:
                continue
            self._offences[decision.value] = max(
                self._offences.get(decision.value, 0), decision.offence
            )
            self._active[decision.value] = decision

    def decide(self, finding: Finding) -> BanDecision | None:
        """The decision for ``finding``; ``None`` when there is nothing to decide (not an
        address finding, a kind that does not ban, or the address is already banned)."""
        if finding.scope is not Scope.IP or finding.kind not in self.settings.ban_kinds:
            return None
        now = finding.detected_at
        current = self._active.get(finding.value)
        if current is not None and current.active_at(now):
            return None
        refusal = self._refusal(finding.value, now)
        if refusal is not None:
            return self._decision(finding, DecisionAction.REFUSED, 0.0, 0, refusal)
        offence = self._offences.get(finding.value, 0) + 1
        duration = min(
            self.settings.bantime_s * self.settings.factor ** (offence - 1),
            self.settings.max_bantime_s,
        )
        action = DecisionAction.WOULD_BAN if self.settings.dry_run else DecisionAction.BAN
        decision = self._decision(finding, action, duration, offence, None)
        self._offences[finding.value] = offence
        self._active[finding.value] = decision
        self._recent.append(now)
        return decision

    def active(self, now: datetime) -> list[BanDecision]:
        """The (would-)bans in force at ``now``; expired ones are forgotten."""
        expired = [value for value, d in self._active.items() if not d.active_at(now)]
        for value in expired:
            if self._active[value].until <= now:
                del self._active[value]
        return [d for d in self._active.values() if d.active_at(now)]

    def is_banned(self, value: str, now: datetime) -> bool:
        """Whether ``value`` is under an enforced ban at ``now``."""
        decision = self._active.get(value)
        return decision is not None and decision.enforced and decision.active_at(now)

    def offences(self, value: str) -> int:
        """How many times ``value`` has been (would-)banned."""
        return self._offences.get(value, 0)

    def _refusal(self, value: str, now: datetime) -> Refusal | None:
        if parse_address(value) is None:
            return Refusal.NOT_AN_ADDRESS
        if self.never_ban.covers(value):
            return Refusal.NEVER_BAN
        horizon = now - timedelta(seconds=60)
        while self._recent and self._recent[0] <= horizon:
            self._recent.popleft()
        if len(self._recent) >= self.settings.max_new_bans_per_minute:
            return Refusal.BAN_CAP
        return None

    def _decision(
        self,
        finding: Finding,
        action: DecisionAction,
        duration_s: float,
        offence: int,
        refusal: Refusal | None,
    ) -> BanDecision:
        return BanDecision(
            scope=Scope.IP,
            value=finding.value,
            action=action,
            reason=finding.kind,
            decided_at=finding.detected_at,
            duration_s=duration_s,
            first_seen=finding.first_seen,
            event_count=finding.event_count,
            offence=offence,
            refusal=refusal,
            evidence=finding.evidence,
        )
