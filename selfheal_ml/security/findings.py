"""Findings: what a detector concluded, with the evidence a person needs to check it.

A finding names its kind (which rule fired), the source it is about (an address, an account or
an API key), when that source's counted activity began and when the rule fired, how many
events it counted and a few sample lines. Findings are facts, not decisions: the ban policy
decides what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class FindingKind(StrEnum):
    """Which rule fired."""

    BRUTE_FORCE = "brute_force"  # fail2ban jail: maxretry failures within findtime
    SLOW_BRUTE_FORCE = "slow_brute_force"  # the same over a day, unknown accounts only
    CREDENTIAL_STUFFING = "credential_stuffing"  # many distinct accounts from one address
    DISTRIBUTED_BRUTE_FORCE = "distributed_brute_force"  # one account failing from many
    SCRAPING = "scraping"  # a request burst from one address
    API_KEY_MISUSE = "api_key_misuse"  # one API key used from many new addresses
    INJECTION = "injection"  # requests the payload scorer flags
    UNUSUAL_ACCESS = "unusual_access"  # the novelty score of a source's access pattern
    UNUSUAL_REQUEST = "unusual_request"  # requests unlike the platform's request profile


class Scope(StrEnum):
    """What a finding's ``value`` is."""

    IP = "ip"
    USER = "user"
    API_KEY = "api_key"


#: Kinds that are attacks by themselves (the agent raises a critical alert for them); the
#: others are signals worth a look.
CONFIRMED_ATTACKS = frozenset(
    {
        FindingKind.BRUTE_FORCE,
        FindingKind.SLOW_BRUTE_FORCE,
        FindingKind.CREDENTIAL_STUFFING,
        FindingKind.DISTRIBUTED_BRUTE_FORCE,
        FindingKind.INJECTION,
        FindingKind.API_KEY_MISUSE,
    }
)


@dataclass(frozen=True)
class Finding:
    """One detection (see the module docstring)."""

    kind: FindingKind
    scope: Scope
    value: str
    first_seen: datetime
    detected_at: datetime
    event_count: int
    evidence: tuple[str, ...] = ()
    detail: str = ""
    platform: str = ""  # the platform of the event that completed the count ("" unknown)

    @property
    def confirmed_attack(self) -> bool:
        """Whether the kind is an attack by itself (see :data:`CONFIRMED_ATTACKS`)."""
        return self.kind in CONFIRMED_ATTACKS
