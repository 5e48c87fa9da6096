"""Our ban decisions in the CrowdSec bouncer protocol (LAPI ``/v1/decisions``), pure.

Existing CrowdSec bouncers (``crowdsec-firewall-bouncer``, the nginx and Traefik ones) poll a
Local API for decisions: ``GET /v1/decisions/stream?startup=true`` once for everything in
force, then ``startup=false`` for what changed since that bouncer's previous pull, as
``{"new": [...], "deleted": [...]}``. A decision object has CrowdSec's field names: ``id``
(integer), ``origin``, ``type`` (``ban``), ``scope`` (``Ip``), ``value``, ``duration`` (a Go
duration string of the time left, e.g. ``3h59m50s``), ``scenario`` and ``simulated``.

Only enforced bans are served: dry-run ("would ban") decisions and refusals never reach a
bouncer, as CrowdSec keeps simulated decisions out of the stream.

:class:`BouncerStream` remembers, per bouncer, which decisions it has been sent; a pull sends
the active decisions it has not seen as ``new`` and the ones it was sent that are no longer in
force as ``deleted``. Remembering what was sent (instead of a last-pull time) matters because a
decision is dated by its log records, which can be older than the pull that should carry it.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.security.ban_policy import BanPolicy
>>> from selfheal_ml.security.findings import Finding, FindingKind, Scope
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> ban = BanPolicy().decide(Finding(FindingKind.BRUTE_FORCE, Scope.IP, "198.51.100.4", at, at, 5))
>>> stream = BouncerStream()
>>> update = stream.pull("firewall", [ban], at.replace(second=10), startup=True)
>>> [(d["value"], d["duration"], d["scenario"]) for d in update.new]
[('198.51.100.4', '9m50s', 'selfheal-ml/brute_force')]
>>> stream.pull("firewall", [], at.replace(minute=11), startup=False).deleted[0]["value"]
'198.51.100.4'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from selfheal_ml.security.ban_policy import BanDecision
from selfheal_ml.security.never_ban import parse_address

SCENARIO_PREFIX = "selfheal-ml/"
DECISION_TYPE = "ban"
IP_SCOPE = "Ip"  # CrowdSec's spelling of the scope


def go_duration(seconds: float) -> str:
    """``seconds`` as Go's ``time.Duration.String()`` writes whole seconds (what bouncers parse).

    >>> go_duration(14390), go_duration(90), go_duration(5), go_duration(-65), go_duration(0)
    ('3h59m50s', '1m30s', '5s', '-1m5s', '0s')
    """
    whole = int(seconds)  # truncates toward zero, as Go rounds a printed duration
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?)(h|ms|us|µs|ns|m|s)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (what the LAPI sends: ``3h59m55.756182786s``).

    >>> parse_go_duration("3h59m55.5s"), parse_go_duration("-1m5s"), parse_go_duration("0s")
    (14395.5, -65.0, 0.0)
    """
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _GO_PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"expected a Go duration such as 3h59m50s, got {text!r}")
    return sign * sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


def decision_id(decision: BanDecision) -> int:
    """A stable positive integer id (CrowdSec ids are integers): a digest of the address,
    the decision time and the offence number, which identify a ban. Fits in 48 bits, so
    JavaScript clients read it exactly."""
    key = f"{decision.value}|{decision.decided_at.isoformat()}|{decision.offence}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=6).digest(), "big")


def crowdsec_decision(decision: BanDecision, now: datetime) -> dict[str, Any]:
    """One decision as CrowdSec's ``models.Decision`` (``duration``: time left at ``now``,
    negative once expired, as the LAPI writes it for deleted decisions)."""
    return {
        "id": decision_id(decision),
        "origin": decision.origin,
        "type": DECISION_TYPE,
        "scope": IP_SCOPE,
        "value": decision.value,
        "duration": go_duration((decision.until - now).total_seconds()),
        "scenario": f"{SCENARIO_PREFIX}{decision.reason.value}",
        "simulated": False,
    }


@dataclass(frozen=True)
class StreamUpdate:
    """One answer of the stream: decisions to add and to remove, as CrowdSec objects."""

    new: list[dict[str, Any]]
    deleted: list[dict[str, Any]]

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """The LAPI's ``DecisionsStreamResponse``."""
        return {"new": self.new, "deleted": self.deleted}


@dataclass
class _Cursor:
    sent: dict[int, BanDecision] = field(default_factory=dict)


class BouncerStream:
    """What each bouncer has been sent, and what its next pull should carry (module doc)."""

    def __init__(self) -> None:
        self._cursors: dict[str, _Cursor] = {}

    def pull(
        self, bouncer: str, active: Iterable[BanDecision], now: datetime, *, startup: bool
    ) -> StreamUpdate:
        """The update for ``bouncer`` given the decisions ``active`` at ``now``.

        ``startup`` (or a bouncer never seen, e.g. after our restart) sends everything in
        force. An address whose old ban was replaced by a new one is not sent as deleted, so
        a bouncer that applies deletions after additions never drops a live ban.
        """
        enforced = {decision_id(d): d for d in active if d.enforced and d.active_at(now)}
        cursor = self._cursors.get(bouncer)
        if startup or cursor is None:
            cursor = self._cursors[bouncer] = _Cursor()
        live_values = {d.value for d in enforced.values()}
        new = [d for key, d in enforced.items() if key not in cursor.sent]
        gone = [
            d
            for key, d in cursor.sent.items()
            if key not in enforced and d.value not in live_values
        ]
        cursor.sent = dict(enforced)
        return StreamUpdate(
            new=[crowdsec_decision(d, now) for d in sorted(new, key=_order)],
            deleted=[crowdsec_decision(d, now) for d in sorted(gone, key=_order)],
        )

    def bouncers(self) -> list[str]:
        """The bouncers that have pulled at least once."""
        return sorted(self._cursors)


def _order(decision: BanDecision) -> tuple[datetime, str]:
    return decision.decided_at, decision.value


def matching(decisions: Iterable[BanDecision], address: str, now: datetime) -> list[BanDecision]:
    """The enforced decisions in force at ``now`` about ``address`` (``GET /v1/decisions?ip=``).

    Addresses are compared as addresses, so ``::ffff:198.51.100.4`` finds ``198.51.100.4``.
    """
    wanted = parse_address(address)
    if wanted is None:
        return []
    return [
        decision
        for decision in decisions
        if decision.enforced and decision.active_at(now) and parse_address(decision.value) == wanted
    ]
