"""The attack detector: records in, findings out, counted the way fail2ban and CrowdSec count.

Rules (thresholds in :mod:`selfheal_ml.security.rules`):

- brute force: a fail2ban jail over failed logins per address; a successful login forgives
  the address's failures *for that account* (a person who mistyped a password, then got it
  right: five such typos in ten minutes would otherwise ban them; an attacker who gets in is
  in either way), never its failures on other accounts (``JailRule.forgive_on_success``);
- slow brute force: a day-long jail over failed logins for unknown accounts (bots that try
  one account every hour stay under any 10-minute window, but no person mistypes a
  non-existent account name five times);
- credential stuffing: a distinct-account leaky bucket over login attempts per address
  (accepted ones too: stuffing with leaked passwords succeeds now and then);
- distributed brute force: a distinct-address leaky bucket over failed logins per account
  (an account finding), then each address taking part as an address finding of the same kind,
  the ones counted at once and later ones at their first failure on the account while the
  campaign lasts (:mod:`selfheal_ml.security.campaigns`: the account's own recent login
  addresses are spared);
- scraping: a leaky bucket over requests per address;
- API key misuse: a distinct-address leaky bucket per API key;
- injection probes: a leaky bucket over requests the :class:`PayloadScorer` flags, per address
  (no scorer, no injection rule);
- unusual access: :class:`AccessNovelty` on requests, reported at most once per source per
  cooldown;
- unusual requests: with :class:`~.profile_watch.PlatformProfiles`, a leaky bucket over the
  requests a platform's request profile flags, per address (the profiles learn the requests
  nothing flagged, never those of an address ``banned`` says is banned).

Time is the records' own (a replayed log runs on its timestamps); nothing reads a clock.

>>> from datetime import datetime, timedelta, UTC
>>> from selfheal_ml.security.records import EventKind, LogRecord
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> failures = [LogRecord(start + timedelta(seconds=10 * i), EventKind.LOGIN_FAILED,
...                       source_ip="198.51.100.4", user="root") for i in range(5)]
>>> [(f.kind.value, f.value, f.event_count) for f in AttackDetector().observe(failures)]
[('brute_force', '198.51.100.4', 5)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from selfheal_ml.security.campaigns import AccountCampaigns
from selfheal_ml.security.counting import JailWindow, LeakyBucket, Overflow
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.security.novelty import AccessNovelty
from selfheal_ml.security.payload import PayloadScorer, payload_text
from selfheal_ml.security.profile_watch import PlatformProfiles
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.rules import BucketRule, DetectionRules

PRUNE_EVERY = 10_000
_LOGIN_ATTEMPTS = frozenset({EventKind.LOGIN_FAILED, EventKind.LOGIN_OK})


def _bucket(rule: BucketRule, *, distinct: bool = False) -> LeakyBucket:
    return LeakyBucket(rule.capacity, rule.leak_s, distinct=distinct, blackhole_s=rule.blackhole_s)


def _finding(
    kind: FindingKind, scope: Scope, overflow: Overflow, at: datetime, detail: str
) -> Finding:
    return Finding(
        kind=kind,
        scope=scope,
        value=overflow.key,
        first_seen=overflow.first_seen,
        detected_at=at,
        event_count=overflow.event_count,
        evidence=overflow.evidence,
        detail=detail,
    )


class AttackDetector:
    """Runs every rule over a stream of records (see the module docstring)."""

    def __init__(
        self,
        rules: DetectionRules | None = None,
        scorer: PayloadScorer | None = None,
        *,
        seed: int = 0,
        profiles: PlatformProfiles | None = None,
    ) -> None:
        self.rules = rules or DetectionRules()
        self.scorer = scorer
        self.profiles = profiles
        # whether an address is banned now (the agent sets it): the profiles never learn those
        self.banned: Callable[[str], bool] = lambda _address: False
        rules = self.rules
        self.brute_force = JailWindow(rules.brute_force.maxretry, rules.brute_force.findtime_s)
        self.slow_brute_force = JailWindow(
            rules.slow_brute_force.maxretry, rules.slow_brute_force.findtime_s
        )
        self.credential_stuffing = _bucket(rules.credential_stuffing, distinct=True)
        self.distributed = _bucket(rules.distributed_brute_force, distinct=True)
        self.campaigns = AccountCampaigns(rules.distributed_campaign_s)
        self.scraping = _bucket(rules.scraping)
        self.api_keys = _bucket(rules.api_key_misuse, distinct=True)
        self.injection = _bucket(rules.injection)
        self.unusual_requests = _bucket(rules.unusual_request)
        self.novelty = AccessNovelty(rules.novelty.warmup_events, seed=seed)
        self._novelty_reported: dict[str, datetime] = {}
        self._observed = 0

    def observe(self, records: Sequence[LogRecord]) -> list[Finding]:
        """Count a batch of records (in time order); the findings they complete."""
        flagged = self._flagged_payloads(records)
        unusual = (
            {} if self.profiles is None else self.profiles.check(records, flagged, self.banned)
        )
        findings: list[Finding] = []
        for index, record in enumerate(records):
            found = self._one(record, index in flagged, unusual.get(index))
            if found and record.platform:  # the platform of the event that completed it
                found = [replace(finding, platform=record.platform) for finding in found]
            findings.extend(found)
            self._observed += 1
            if self._observed % PRUNE_EVERY == 0:
                self.prune(record.time)
        return findings

    def prune(self, now: datetime) -> None:
        """Drop state that can no longer fire (bounded memory on a long-running stream)."""
        for counter in (self.brute_force, self.slow_brute_force, self.credential_stuffing):
            counter.prune(now)
        buckets = (self.distributed, self.scraping, self.api_keys, self.injection)
        for bucket in (*buckets, self.unusual_requests):
            bucket.prune(now)
        self.campaigns.prune(now)

    def _flagged_payloads(self, records: Sequence[LogRecord]) -> set[int]:
        if self.scorer is None:
            return set()
        positions = [i for i, r in enumerate(records) if r.kind is EventKind.REQUEST]
        if not positions:
            return set()
        scores = self.scorer.score([payload_text(records[i]) for i in positions])
        threshold = self.scorer.threshold
        return {i for i, score in zip(positions, scores, strict=True) if score >= threshold}

    def _one(self, record: LogRecord, flagged: bool, unusual: float | None) -> list[Finding]:
        found: list[Finding] = []
        kind = record.kind
        address, time, raw = record.source_ip, record.time, record.raw
        if kind is EventKind.LOGIN_OK and address and record.user:
            self._forgive(address, record.user)
            self.campaigns.accepted(record.user, address, time)
        if kind is EventKind.LOGIN_FAILED and address:
            fired = self.brute_force.add(address, time, raw, record.occurrences, record.user)
            if fired:
                found.append(
                    _finding(FindingKind.BRUTE_FORCE, Scope.IP, fired, time, "failed logins")
                )
                # the fast jail reported these failures: the slow one starts over, not twice
                self.slow_brute_force.forget(address)
            elif record.unknown_user:
                fired = self.slow_brute_force.add(
                    address, time, raw, record.occurrences, record.user
                )
                if fired:
                    found.append(
                        _finding(
                            FindingKind.SLOW_BRUTE_FORCE, Scope.IP, fired, time, "unknown accounts"
                        )
                    )
        if kind in _LOGIN_ATTEMPTS and address and record.user:
            fired = self.credential_stuffing.add(address, time, raw, record.user)
            if fired:
                found.append(
                    _finding(
                        FindingKind.CREDENTIAL_STUFFING, Scope.IP, fired, time, "distinct accounts"
                    )
                )
        if kind is EventKind.LOGIN_FAILED and record.user and address:
            found.extend(self._distributed(record))
        if record.api_key and address:
            fired = self.api_keys.add(record.api_key, time, raw, address)
            if fired:
                found.append(
                    _finding(
                        FindingKind.API_KEY_MISUSE, Scope.API_KEY, fired, time, "distinct addresses"
                    )
                )
        if kind is EventKind.REQUEST and address:
            found.extend(self._request(record, flagged, unusual))
        return found

    def _distributed(self, record: LogRecord) -> list[Finding]:
        """A failed login counted against its account's campaign (module docstring)."""
        user, address, time, raw = record.user, record.source_ip, record.time, record.raw
        fired = self.distributed.add(user, time, raw, address)
        if fired:
            detail = "distinct addresses failing one account"
            found = [_finding(FindingKind.DISTRIBUTED_BRUTE_FORCE, Scope.USER, fired, time, detail)]
            if self.rules.distributed_campaign_s > 0:
                named = self.campaigns.started(user, fired, time)
                found += [self._taking_part(user, one, fired.first_seen, time, fired.evidence)
                          for one in named]  # fmt: skip
            return found
        if self.rules.distributed_campaign_s > 0 and self.campaigns.failed(user, address, time):
            first_seen = self.campaigns.first_seen(user) or time
            return [self._taking_part(user, address, first_seen, time, (raw,))]
        return []

    @staticmethod
    def _taking_part(
        user: str, address: str, first_seen: datetime, at: datetime, evidence: tuple[str, ...]
    ) -> Finding:
        return Finding(
            kind=FindingKind.DISTRIBUTED_BRUTE_FORCE,
            scope=Scope.IP,
            value=address,
            first_seen=first_seen,
            detected_at=at,
            event_count=1,
            evidence=evidence,
            detail=f"takes part in a distributed brute force on account {user}",
        )

    def _forgive(self, address: str, user: str) -> None:
        """A login accepted for ``user`` from ``address``: its earlier failures there were a
        person's typos, not guesses (module docstring)."""
        if self.rules.brute_force.forgive_on_success:
            self.brute_force.forgive(address, user)
        if self.rules.slow_brute_force.forgive_on_success:
            self.slow_brute_force.forgive(address, user)

    def _request(self, record: LogRecord, flagged: bool, unusual: float | None) -> list[Finding]:
        found: list[Finding] = []
        address, time, raw = record.source_ip, record.time, record.raw
        fired = self.scraping.add(address, time, raw)
        if fired:
            found.append(_finding(FindingKind.SCRAPING, Scope.IP, fired, time, "request burst"))
        if flagged:
            fired = self.injection.add(address, time, raw)
            if fired:
                found.append(
                    _finding(FindingKind.INJECTION, Scope.IP, fired, time, "flagged payloads")
                )
        if unusual is not None:
            fired = self.unusual_requests.add(address, time, raw)
            if fired:
                detail = f"requests unlike the platform's profile (latest score {unusual:.2f})"
                found.append(_finding(FindingKind.UNUSUAL_REQUEST, Scope.IP, fired, time, detail))
        novel = self._novel(record)
        if novel:
            found.append(novel)
        return found

    def _novel(self, record: LogRecord) -> Finding | None:
        rule = self.rules.novelty
        score = self.novelty.score(record)
        address = record.source_ip
        if score < rule.threshold or self.novelty.events_of(address) < rule.min_source_events:
            return None
        last = self._novelty_reported.get(address)
        if last is not None and record.time - last < timedelta(seconds=rule.cooldown_s):
            return None
        self._novelty_reported[address] = record.time
        return Finding(
            kind=FindingKind.UNUSUAL_ACCESS,
            scope=Scope.IP,
            value=address,
            first_seen=record.time,
            detected_at=record.time,
            event_count=self.novelty.events_of(address),
            evidence=(record.raw,),
            detail=f"novelty score {score:.2f}",
        )
