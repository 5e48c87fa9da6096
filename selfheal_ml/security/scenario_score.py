"""Scenario 3 scored against ground truth: which attacks were detected and blocked, how fast,
and who was blocked who should not have been.

Pure: the inputs are the simulator's attack ground truth (:class:`AttackTruth`) and what the
Security agent announced (:class:`SeenFinding` from ``SecurityThreatDetected``,
:class:`SeenBan` from ``IpBlocked``), all on the run's clock. An attack is **detected** by the
first finding about one of its addresses, or about the account or API key it targets
(``targets``: a distributed brute force is found per account, a leaked key per key), between
its start and ``grace_s`` after its end; it is **blocked** at the first enforced ban of one of
its addresses after its start, and **fully blocked** when every address it used has been
banned. A ban of an address no attack used is a wrong block; it is named by the role of the
address (``legitimate``: a user or a health checker) or, for never-ban addresses, as such
(the policy refuses those, so any would be a bug).

>>> from datetime import datetime, timedelta, UTC
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> attack = AttackTruth("attack-1", "brute_force", "shop", ("203.0.113.1",), t0,
...                      t0 + timedelta(seconds=300))
>>> ban = SeenBan(t0 + timedelta(seconds=6), "203.0.113.1", "brute_force (offence 1)")
>>> finding = SeenFinding(t0 + timedelta(seconds=6), "brute_force", "ip", "203.0.113.1")
>>> report = score_attacks([attack], [finding], [ban], legitimate={})
>>> report.outcomes[0].time_to_block_s, report.wrong_blocks
(6.0, 0)
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.security.never_ban import NeverBanList

BLOCK_TARGET_S = 30.0  # issue 13: blocked within 30 s of the attack starting


@dataclass(frozen=True)
class AttackTruth:
    """One attack as the simulator ran it."""

    attack_id: str
    kind: str
    platform: str
    addresses: tuple[str, ...]
    started_at: datetime
    ends_at: datetime
    targets: tuple[str, ...] = ()  # accounts or API keys the attack is about
    fault_id: str | None = None
    first_refused_at: datetime | None = None
    requests: int = 0
    refused: int = 0
    used: tuple[str, ...] = ()  # addresses that sent at least one request (default: all)


@dataclass(frozen=True)
class SeenFinding:
    """A ``SecurityThreatDetected`` as announced."""

    at: datetime
    kind: str
    scope: str
    value: str


@dataclass(frozen=True)
class SeenBan:
    """An ``IpBlocked`` as announced."""

    at: datetime
    address: str
    reason: str


@dataclass(frozen=True)
class SeenSignal:
    """Another agent's word on an attack: an anomaly of the Predictive agent on an attack-rate
    series (``name`` the series) or an incident of the Diagnostic agent whose root cause is an
    attack (``name`` the cause, ``platforms`` where)."""

    at: datetime
    name: str
    platforms: tuple[str, ...] = ()
    incident_id: str = ""  # an incident's id ("" for an anomaly)


@dataclass(frozen=True)
class AttackOutcome:
    """What became of one attack."""

    truth: AttackTruth
    detected_at: datetime | None
    detected_as: tuple[str, ...]
    blocked_at: datetime | None
    fully_blocked_at: datetime | None
    warned_at: datetime | None = None  # first anomaly on an attack-rate series
    confirmed_at: datetime | None = None  # first incident with an attack as its root cause
    incidents: int = 0  # how many incidents with an attack as root cause it had (one is right)

    def _after_start(self, moment: datetime | None) -> float | None:
        if moment is None:
            return None
        return round((moment - self.truth.started_at).total_seconds(), 3)

    @property
    def time_to_detect_s(self) -> float | None:
        return self._after_start(self.detected_at)

    @property
    def time_to_block_s(self) -> float | None:
        return self._after_start(self.blocked_at)

    @property
    def time_to_block_all_s(self) -> float | None:
        return self._after_start(self.fully_blocked_at)

    @property
    def time_to_refuse_s(self) -> float | None:
        """From the start to the simulator's first refused request (the ban enforced)."""
        return self._after_start(self.truth.first_refused_at)

    def as_dict(self) -> dict[str, Any]:
        truth = self.truth
        return {
            "attack_id": truth.attack_id,
            "kind": truth.kind,
            "platform": truth.platform,
            "fault_id": truth.fault_id,
            "started_at": truth.started_at.isoformat(),
            "addresses": len(truth.addresses),
            "requests": truth.requests,
            "refused": truth.refused,
            "detected_as": list(self.detected_as),
            "time_to_detect_s": self.time_to_detect_s,
            "time_to_block_s": self.time_to_block_s,
            "time_to_block_all_s": self.time_to_block_all_s,
            "time_to_refuse_s": self.time_to_refuse_s,
            "rate_anomaly_after_s": self._after_start(self.warned_at),
            "incident_after_s": self._after_start(self.confirmed_at),
            "incidents": self.incidents,
        }


@dataclass
class AttackScenarioReport:
    """Every attack's outcome and the wrong blocks of the run."""

    outcomes: list[AttackOutcome]
    wrong_blocks_by_role: Counter[str] = field(default_factory=Counter)
    wrongly_blocked: list[str] = field(default_factory=list)
    # findings about legitimate sources by kind (e.g. unusual_access warnings, never bans)
    legitimate_flagged: Counter[str] = field(default_factory=Counter)
    rate_anomalies: int = 0
    rate_anomalies_outside_attacks: int = 0

    @property
    def wrong_blocks(self) -> int:
        return sum(self.wrong_blocks_by_role.values())

    def by_kind(self) -> dict[str, dict[str, Any]]:
        """Per attack kind: how many, detected, blocked, and the times (median, max)."""
        rows: dict[str, dict[str, Any]] = {}
        for kind in sorted({outcome.truth.kind for outcome in self.outcomes}):
            mine = [outcome for outcome in self.outcomes if outcome.truth.kind == kind]
            detect = [o.time_to_detect_s for o in mine if o.time_to_detect_s is not None]
            block = [o.time_to_block_s for o in mine if o.time_to_block_s is not None]
            block_all = [o.time_to_block_all_s for o in mine if o.time_to_block_all_s is not None]
            rows[kind] = {
                "attacks": len(mine),
                "detected": len(detect),
                "blocked": len(block),
                "fully_blocked": len(block_all),
                "detect_median_s": _median(detect),
                "detect_max_s": max(detect, default=None),
                "block_median_s": _median(block),
                "block_max_s": max(block, default=None),
                "block_all_max_s": max(block_all, default=None),
            }
        return rows

    def as_dict(self) -> dict[str, Any]:
        kinds = self.by_kind()
        blocks = [o.time_to_block_s for o in self.outcomes if o.time_to_block_s is not None]
        return {
            "attacks": len(self.outcomes),
            "attacks_detected": sum(o.detected_at is not None for o in self.outcomes),
            "attacks_blocked": sum(o.blocked_at is not None for o in self.outcomes),
            "every_kind_detected": all(row["detected"] == row["attacks"] for row in kinds.values()),
            "time_to_block_median_s": _median(blocks),
            "time_to_block_max_s": max(blocks, default=None),
            "blocked_within_target": sum(t <= BLOCK_TARGET_S for t in blocks),
            "wrong_blocks": self.wrong_blocks,
            "wrong_blocks_by_role": dict(self.wrong_blocks_by_role),
            "wrongly_blocked": self.wrongly_blocked,
            "legitimate_flagged": dict(self.legitimate_flagged),
            "attacks_with_rate_anomaly": sum(o.warned_at is not None for o in self.outcomes),
            "rate_anomalies": self.rate_anomalies,
            "rate_anomalies_outside_attacks": self.rate_anomalies_outside_attacks,
            "attacks_confirmed_by_incident": sum(o.confirmed_at is not None for o in self.outcomes),
            "attacks_with_one_incident": sum(o.incidents == 1 for o in self.outcomes),
            "attacks_with_several_incidents": sum(o.incidents > 1 for o in self.outcomes),
            "by_kind": kinds,
            "per_attack": [outcome.as_dict() for outcome in self.outcomes],
        }


def _first(signals: Sequence[SeenSignal], during: tuple[datetime, datetime]) -> datetime | None:
    return min((s.at for s in signals if during[0] <= s.at <= during[1]), default=None)


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def score_attacks(
    attacks: Sequence[AttackTruth],
    findings: Sequence[SeenFinding],
    bans: Sequence[SeenBan],
    *,
    legitimate: Mapping[str, str],
    never_ban: NeverBanList | None = None,
    grace_s: float = 600.0,
    rate_anomalies: Sequence[SeenSignal] = (),
    incidents: Sequence[SeenSignal] = (),
) -> AttackScenarioReport:
    """Match findings and bans to attacks (module docstring). ``legitimate`` maps the
    addresses of legitimate sources to their role (``user``, ``health_checker``)."""
    grace = timedelta(seconds=grace_s)
    first_ban: dict[str, list[SeenBan]] = {}
    for ban in sorted(bans, key=lambda seen: seen.at):
        first_ban.setdefault(ban.address, []).append(ban)
    outcomes = []
    for attack in attacks:
        about = set(attack.addresses) | set(attack.targets)
        matching = [
            finding
            for finding in findings
            if finding.value in about and attack.started_at <= finding.at <= attack.ends_at + grace
        ]
        detected_at = min((finding.at for finding in matching), default=None)
        kinds = tuple(sorted({finding.kind for finding in matching}))
        ban_times = {
            address: next((b.at for b in first_ban.get(address, ()) if b.at >= attack.started_at),
                          None)
            for address in attack.used or attack.addresses
        }  # fmt: skip
        times = [moment for moment in ban_times.values() if moment is not None]
        all_banned = bool(times) and len(times) == len(ban_times)
        during = (attack.started_at, attack.ends_at + grace)
        on_platform = [i for i in incidents if attack.platform in i.platforms]
        opened = {i.incident_id or str(n) for n, i in enumerate(on_platform)
                  if during[0] <= i.at <= during[1]}  # fmt: skip
        outcomes.append(
            AttackOutcome(
                truth=attack,
                detected_at=detected_at,
                detected_as=kinds,
                blocked_at=min(times, default=None),
                fully_blocked_at=max(times) if all_banned else None,
                warned_at=_first(rate_anomalies, during),
                confirmed_at=_first(on_platform, during),
                incidents=len(opened),
            )
        )
    attackers = {address for attack in attacks for address in attack.addresses}
    report = AttackScenarioReport(outcomes)
    for address in sorted(first_ban):
        if address in attackers:
            continue
        if never_ban is not None and never_ban.covers(address):
            role = "never_ban"
        else:
            role = legitimate.get(address, "unknown")
        report.wrong_blocks_by_role[role] += len(first_ban[address])
        report.wrongly_blocked.append(address)
    report.legitimate_flagged.update(f.kind for f in findings if f.value in legitimate)
    report.rate_anomalies = len(rate_anomalies)
    report.rate_anomalies_outside_attacks = sum(
        not any(a.started_at <= s.at <= a.ends_at + grace for a in attacks) for s in rate_anomalies
    )
    return report
