"""Detection thresholds: one small frozen value per rule, the defaults documented here.

=============================  =======================================================
brute force (fail2ban jail)    5 failed logins per address within 600 s; a login
                               accepted for an account forgives the address's failures
                               for that account
slow brute force               5 failed logins for unknown accounts within 1 day
credential stuffing            > 10 distinct accounts tried from one address, bucket
                               leaking one account a minute
distributed brute force        > 10 distinct addresses failing one account, leaking one
                               a minute; then every address failing that account (but
                               the account's own login addresses) until 600 s quiet
scraping                       > 300 requests from one address, leaking 5 a second
API key misuse                 > 3 distinct addresses using one key, leaking one an hour
injection probes               > 2 flagged requests from one address, leaking one a minute
unusual access (novelty)       score >= 0.9 after 500 requests seen, once per source an hour
unusual requests (profile)     > 2 requests from one address that the platform's request
                               profile flags, leaking one a minute (only with a profile)
=============================  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JailRule:
    """fail2ban counting: ``maxretry`` events within ``findtime_s`` seconds; with
    ``forgive_on_success`` a login accepted for an account drops the address's counted
    failures for that account."""

    maxretry: int = 5
    findtime_s: float = 600.0
    forgive_on_success: bool = True


@dataclass(frozen=True)
class BucketRule:
    """CrowdSec counting: overflow past ``capacity``, one unit leaks every ``leak_s`` seconds;
    the key is then silent for ``blackhole_s`` seconds."""

    capacity: int
    leak_s: float
    blackhole_s: float = 300.0


@dataclass(frozen=True)
class NoveltyRule:
    """When the novelty score of a source's access pattern is reported."""

    threshold: float = 0.9
    warmup_events: int = 500
    min_source_events: int = 20
    cooldown_s: float = 3600.0


@dataclass(frozen=True)
class DetectionRules:
    """Every rule's thresholds (defaults in the module docstring)."""

    brute_force: JailRule = JailRule()
    slow_brute_force: JailRule = JailRule(maxretry=5, findtime_s=86_400.0)
    credential_stuffing: BucketRule = BucketRule(capacity=10, leak_s=60.0)
    distributed_brute_force: BucketRule = BucketRule(capacity=10, leak_s=60.0)
    #: how long a distributed brute force's account stays under watch after its latest failed
    #: login, each address failing it named at once (0: only the account is reported)
    distributed_campaign_s: float = 600.0
    scraping: BucketRule = BucketRule(capacity=300, leak_s=0.2)
    api_key_misuse: BucketRule = BucketRule(capacity=3, leak_s=3600.0)
    injection: BucketRule = BucketRule(capacity=2, leak_s=60.0)
    unusual_request: BucketRule = BucketRule(capacity=2, leak_s=60.0)
    novelty: NoveltyRule = field(default_factory=NoveltyRule)
