"""Request and login traffic of the simulated platforms, attacks included, with ground truth.

Pure: :meth:`TrafficModel.events` turns a time window into JSON-lines access-log events (the
fields of the ``jsonl`` log format, docs/security.md, plus ``platform``) from a seeded random
generator; the live simulator (``sim/access_log.py``) writes them to a file.

Who is in the log:

- **legitimate users**: :data:`USERS` accounts, each always from its own address in
  198.51.100.0/24, browsing a few pages a minute and logging in about every five minutes;
  one login in ten is a typo (one ``login_failed``, then ``login_ok``), so no user ever comes
  near a brute-force threshold;
- **health checkers**: :data:`HEALTH_CHECKERS`, ``GET /health`` every 2 s per platform;
- **attacks** (:class:`AttackKind`), started on demand, each from its own addresses in
  203.0.113.0/24 or 100.64.0.0/10: ``brute_force`` (one address, failed logins on a few
  accounts), ``credential_stuffing`` (one address, many accounts), ``distributed_brute_force``
  (one account, 40 addresses, a few tries each), ``injection_probe`` (SQLi/XSS payloads in
  query strings and bodies), ``scraping`` (a burst of catalogue pages), ``api_key_misuse`` (a
  user's API key used from addresses it never came from).

Requests from a banned address (``banned(address)`` is true) are refused: logged with status
403 and no login, so an attack's effect stops once it is blocked.

>>> model = TrafficModel(platforms=("shop",), seed=1)
>>> from datetime import datetime, UTC, timedelta
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> attack = model.start_attack(AttackKind.BRUTE_FORCE, "shop", t0, duration_s=60, rate_per_s=5)
>>> events = model.events(t0, t0 + timedelta(seconds=10), banned=lambda address: False)
>>> sum(e["ip"] == attack.addresses[0] and e["event"] == "login_failed" for e in events) > 20
True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

USERS = tuple(f"user{n:02d}" for n in range(20))
USER_ADDRESSES = {user: f"198.51.100.{10 + n}" for n, user in enumerate(USERS)}
USER_API_KEYS = {user: f"key-{user}" for user in USERS}
HEALTH_CHECKERS = ("192.0.2.10", "192.0.2.11")
PAGES = ("/", "/products", "/products/42", "/cart", "/orders", "/account")
PROBES = (
    "/search?q=1' OR '1'='1",
    "/search?q=1 UNION SELECT username, password FROM users--",
    "/products?id=42; DROP TABLE orders--",
    "/search?q=<script>alert(document.cookie)</script>",
    "/comment?text=<img src=x onerror=alert(1)>",
    "/login?user=admin'--",
)


class AttackKind(StrEnum):
    """The attacks the simulator can run (issue 13's list)."""

    BRUTE_FORCE = "brute_force"
    CREDENTIAL_STUFFING = "credential_stuffing"
    DISTRIBUTED_BRUTE_FORCE = "distributed_brute_force"
    INJECTION_PROBE = "injection_probe"
    SCRAPING = "scraping"
    API_KEY_MISUSE = "api_key_misuse"


#: requests per second of each attack at severity 1
DEFAULT_RATES = {
    AttackKind.BRUTE_FORCE: 5.0,
    AttackKind.CREDENTIAL_STUFFING: 5.0,
    AttackKind.DISTRIBUTED_BRUTE_FORCE: 4.0,
    AttackKind.INJECTION_PROBE: 2.0,
    AttackKind.SCRAPING: 30.0,
    AttackKind.API_KEY_MISUSE: 2.0,
}
ADDRESS_COUNTS = {AttackKind.DISTRIBUTED_BRUTE_FORCE: 40, AttackKind.API_KEY_MISUSE: 8}


@dataclass
class Attack:
    """Ground truth about one attack: who, where, when, and what became of its requests."""

    attack_id: str
    kind: AttackKind
    platform: str
    addresses: tuple[str, ...]
    started_at: datetime
    ends_at: datetime
    rate_per_s: float
    fault_id: str | None = None
    requests: int = 0
    refused: int = 0
    first_refused_at: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.started_at <= moment < self.ends_at

    def as_json(self) -> dict[str, Any]:
        """JSON-ready ground truth."""
        return {
            "attack_id": self.attack_id,
            "kind": self.kind.value,
            "platform": self.platform,
            "addresses": list(self.addresses),
            "started_at": self.started_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "rate_per_s": self.rate_per_s,
            "fault_id": self.fault_id,
            "requests": self.requests,
            "refused": self.refused,
            "first_refused_at": (
                None if self.first_refused_at is None else self.first_refused_at.isoformat()
            ),
        }


@dataclass
class TrafficModel:
    """Legitimate, health-check and attack traffic of ``platforms`` (module docstring)."""

    platforms: tuple[str, ...]
    seed: int = 0
    user_rate_per_s: float = 0.05  # pages per user per second
    login_every_s: float = 300.0
    health_every_s: float = 2.0
    attacks: list[Attack] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._next_block = 0

    def start_attack(
        self,
        kind: AttackKind,
        platform: str,
        at: datetime,
        *,
        duration_s: float = 300.0,
        rate_per_s: float | None = None,
        fault_id: str | None = None,
    ) -> Attack:
        """Start an attack at ``at`` from fresh addresses; its ground truth."""
        count = ADDRESS_COUNTS.get(kind, 1)
        addresses = tuple(self._fresh_address() for _ in range(count))
        attack = Attack(
            attack_id=f"attack-{len(self.attacks) + 1}",
            kind=kind,
            platform=platform,
            addresses=addresses,
            started_at=at,
            ends_at=at + timedelta(seconds=duration_s),
            rate_per_s=DEFAULT_RATES[kind] if rate_per_s is None else rate_per_s,
            fault_id=fault_id,
        )
        self.attacks.append(attack)
        return attack

    def _fresh_address(self) -> str:
        self._next_block += 1
        block = self._next_block
        if block < 250:
            return f"203.0.113.{block}"
        return f"100.64.{block // 250}.{block % 250}"

    def events(
        self, start: datetime, end: datetime, banned: Callable[[str], bool]
    ) -> list[dict[str, Any]]:
        """Every event in ``[start, end)``, in time order."""
        span = (end - start).total_seconds()
        if span <= 0:
            return []
        # each checker and each user is a Poisson process per platform; their superposition is
        # drawn at once (one draw per window, not one per user and platform), then split
        rng, platforms = self._rng, self.platforms
        checks = len(HEALTH_CHECKERS) * len(platforms) / self.health_every_s
        events: list[dict[str, Any]] = [
            _request(at, rng.choice(HEALTH_CHECKERS), rng.choice(platforms), "GET", "/health", 200)
            for at in self._times(start, span, checks)
        ]
        events.extend(self._users(start, span))
        for attack in self.attacks:
            events.extend(self._attack(attack, start, end, banned))
        events.sort(key=lambda event: event["time"])
        return events

    def _times(self, start: datetime, span: float, rate: float) -> list[datetime]:
        count = _poisson(self._rng, rate * span)
        return [start + timedelta(seconds=self._rng.random() * span) for _ in range(count)]

    def _users(self, start: datetime, span: float) -> list[dict[str, Any]]:
        """Every user's page views and logins (each user from its own address)."""
        rng, platforms = self._rng, self.platforms
        found = []
        for at in self._times(start, span, self.user_rate_per_s * len(USERS)):
            user = rng.choice(USERS)
            found.append(_request(at, USER_ADDRESSES[user], rng.choice(platforms), "GET",
                                  rng.choice(PAGES), 200, user=user))  # fmt: skip
        for at in self._times(start, span, len(USERS) / self.login_every_s):
            user, platform = rng.choice(USERS), rng.choice(platforms)
            address = USER_ADDRESSES[user]
            if rng.random() < 0.1:  # a typo, then the right password
                found.append(_login(at, address, platform, user, ok=False))
                at += timedelta(seconds=3)
            found.append(_login(at, address, platform, user, ok=True))
        return found

    def _attack(
        self, attack: Attack, start: datetime, end: datetime, banned: Callable[[str], bool]
    ) -> list[dict[str, Any]]:
        begin, finish = max(start, attack.started_at), min(end, attack.ends_at)
        span = (finish - begin).total_seconds()
        if span <= 0:
            return []
        found = []
        for at in sorted(self._times(begin, span, attack.rate_per_s)):
            address = self._rng.choice(attack.addresses)
            attack.requests += 1
            if banned(address):
                attack.refused += 1
                attack.first_refused_at = attack.first_refused_at or at
                found.append(_request(at, address, attack.platform, "POST", "/login", 403))
                continue
            found.append(self._attack_event(attack, at, address))
        return found

    def _attack_event(self, attack: Attack, at: datetime, address: str) -> dict[str, Any]:
        kind, platform, rng = attack.kind, attack.platform, self._rng
        if kind is AttackKind.BRUTE_FORCE:
            return _login(at, address, platform, rng.choice(("admin", "root", "user00")), ok=False)
        if kind is AttackKind.CREDENTIAL_STUFFING:
            account = f"victim{rng.randrange(100_000)}@example.com"
            return _login(at, address, platform, account, ok=rng.random() < 0.01)
        if kind is AttackKind.DISTRIBUTED_BRUTE_FORCE:
            return _login(at, address, platform, "admin", ok=False)
        if kind is AttackKind.INJECTION_PROBE:
            probe = rng.choice(PROBES)
            return {**_request(at, address, platform, "GET", probe, 400), "body": probe}
        if kind is AttackKind.SCRAPING:
            page = f"/products/{rng.randrange(10_000)}"
            return _request(at, address, platform, "GET", page, 200)
        key = USER_API_KEYS[USERS[0]]  # the leaked key
        return {**_request(at, address, platform, "GET", "/v1/orders", 200), "api_key": key}


def _request(
    at: datetime, address: str, platform: str, method: str, path: str, status: int, **extra: str
) -> dict[str, Any]:
    return {
        "time": at.isoformat(),
        "ip": address,
        "platform": platform,
        "event": "request",
        "method": method,
        "path": path,
        "status": status,
        **extra,
    }


def _login(at: datetime, address: str, platform: str, user: str, *, ok: bool) -> dict[str, Any]:
    return {
        **_request(at, address, platform, "POST", "/login", 200 if ok else 401),
        "event": "login_ok" if ok else "login_failed",
        "user": user,
    }


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
