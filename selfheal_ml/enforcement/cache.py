"""The middleware's local copy of the bans: address -> expiry, with its age.

Each address keeps the expiry the source gave it, so a ban ends on time even if the source
cannot be reached for a while; addresses are compared as addresses (an IPv4-mapped IPv6
client matches its IPv4 ban).

>>> cache = BanCache(ttl_s=5.0)
>>> cache.apply(DecisionUpdate(new={"198.51.100.4": 600.0}, full=True), now=100.0)
>>> cache.is_banned("::ffff:198.51.100.4", now=101.0), cache.is_banned("198.51.100.4", now=701.0)
(True, False)
>>> cache.stale(now=104.0), cache.stale(now=105.0)
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from selfheal_ml.security.never_ban import parse_address


@dataclass(frozen=True)
class DecisionUpdate:
    """What a source says: addresses banned (with seconds left) and addresses released.

    ``full`` means ``new`` is everything in force (forget what is not in it)."""

    new: dict[str, float] = field(default_factory=dict)
    deleted: frozenset[str] = frozenset()
    full: bool = False


def _key(address: str) -> str | None:
    parsed = parse_address(address)
    return None if parsed is None else str(parsed)


class BanCache:
    """Banned addresses with their expiry on a monotonic clock (module docstring)."""

    def __init__(self, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s: expected a positive number of seconds, got {ttl_s!r}")
        self.ttl_s = ttl_s
        self._until: dict[str, float] = {}
        self.refreshed_at: float | None = None

    def apply(self, update: DecisionUpdate, now: float) -> None:
        """Take ``update`` in at monotonic time ``now``."""
        if update.full:
            self._until.clear()
        for address in update.deleted:
            key = _key(address)
            if key is not None:
                self._until.pop(key, None)
        for address, seconds_left in update.new.items():
            key = _key(address)
            if key is not None and seconds_left > 0:
                self._until[key] = max(self._until.get(key, 0.0), now + seconds_left)
        self.refreshed_at = now

    def is_banned(self, address: str, now: float) -> bool:
        """Whether ``address`` is under a ban at ``now``."""
        key = _key(address)
        return key is not None and self._until.get(key, 0.0) > now

    def stale(self, now: float) -> bool:
        """Whether the copy is older than ``ttl_s`` (or was never filled)."""
        return self.refreshed_at is None or now - self.refreshed_at >= self.ttl_s

    def __len__(self) -> int:
        return len(self._until)
