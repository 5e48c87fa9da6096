"""The two counters behind every rule: fail2ban's jail window and CrowdSec's leaky bucket.

Both group events by a key (an address, an account, an API key), keep the first time and a few
sample lines of what they counted, and report an overflow once: the key's state is then
cleared, so the next overflow needs fresh events.

:class:`JailWindow` is fail2ban: ``maxretry`` events within ``findtime_s`` seconds. Each event
may carry a ``tag`` (the account a failed login was for), and :meth:`JailWindow.forgive` drops
a key's events of one tag: what fail2ban's users ask of it (fail2ban#2102, #1243; IPBan#88)
when a person who mistyped a password then logs in. Forgiving by key *and* tag keeps the
loophole closed that #1243 points out: a success on one's own account does not wipe the
failures an address piled up on other accounts.

>>> from datetime import datetime, timedelta, UTC
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> jail = JailWindow(maxretry=3, findtime_s=600)
>>> [jail.add("192.0.2.1", start + timedelta(seconds=s), "x") is not None for s in (0, 10, 20)]
[False, False, True]
>>> for s in (0, 10):
...     _ = jail.add("192.0.2.2", start + timedelta(seconds=s), "x", tag="bob")
>>> jail.forgive("192.0.2.2", "bob")
2
>>> jail.add("192.0.2.2", start + timedelta(seconds=20), "x", tag="bob") is None
True

:class:`LeakyBucket` is CrowdSec's ``leaky`` type: each event pours one unit, the bucket leaks
one unit every ``leak_s`` seconds and overflows when its level passes ``capacity``. With
``distinct`` only the first event of each distinct value counts while the bucket is not empty.
After an overflow the key is suppressed for ``blackhole_s`` seconds.

>>> bucket = LeakyBucket(capacity=2, leak_s=60)
>>> [bucket.add("k", start, "x") is not None for _ in range(3)]
[False, False, True]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

EVIDENCE_LINES = 5


@dataclass(frozen=True)
class Overflow:
    """A key passed its rule: when its counted activity began, how much, and samples."""

    key: str
    first_seen: datetime
    event_count: int
    evidence: tuple[str, ...]
    values: tuple[str, ...] = ()  # a distinct bucket's distinct values, in order of arrival


@dataclass
class _WindowState:
    times: deque[datetime] = field(default_factory=deque)
    tags: deque[str] = field(default_factory=deque)  # one per time: whose event it was
    evidence: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=EVIDENCE_LINES))


class JailWindow:
    """fail2ban's counting: ``maxretry`` events within the last ``findtime_s`` seconds."""

    def __init__(self, maxretry: int, findtime_s: float) -> None:
        if maxretry < 1:
            raise ValueError(f"maxretry: expected 1 or more, got {maxretry}")
        if findtime_s <= 0:
            raise ValueError(f"findtime_s: expected a positive number, got {findtime_s}")
        self.maxretry = maxretry
        self.findtime_s = findtime_s
        self._window = timedelta(seconds=findtime_s)
        self._keys: dict[str, _WindowState] = {}

    def add(
        self, key: str, time: datetime, raw: str, occurrences: int = 1, tag: str = ""
    ) -> Overflow | None:
        """Count ``occurrences`` events of ``key`` (of ``tag``) at ``time``; the overflow if
        it fires."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _WindowState()
        times, tags = state.times, state.tags
        horizon = time - self._window
        while times and times[0] <= horizon:
            times.popleft()
            tags.popleft()
        count = min(occurrences, self.maxretry)
        times.extend([time] * count)
        tags.extend([tag] * count)
        state.evidence.append((tag, raw))
        if len(times) < self.maxretry:
            return None
        del self._keys[key]
        return Overflow(key, times[0], len(times), tuple(line for _, line in state.evidence))

    def forgive(self, key: str, tag: str) -> int:
        """Drop the events of ``key`` that carry ``tag``; how many were dropped."""
        state = self._keys.get(key)
        if state is None or tag not in state.tags:
            return 0
        pairs = zip(state.times, state.tags, strict=True)
        kept = [(time, mark) for time, mark in pairs if mark != tag]
        dropped = len(state.times) - len(kept)
        if not kept:
            del self._keys[key]
            return dropped
        state.times = deque(time for time, _ in kept)
        state.tags = deque(mark for _, mark in kept)
        state.evidence = deque(
            (item for item in state.evidence if item[0] != tag), maxlen=EVIDENCE_LINES
        )
        return dropped

    def forget(self, key: str) -> None:
        """Drop what was counted for ``key`` (another rule already reported it)."""
        self._keys.pop(key, None)

    def prune(self, now: datetime) -> None:
        """Forget keys whose every event is older than the window (bounded memory)."""
        horizon = now - self._window
        stale = [key for key, state in self._keys.items() if state.times[-1] <= horizon]
        for key in stale:
            del self._keys[key]

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class _BucketState:
    level: float
    updated: datetime
    first_seen: datetime
    poured: int = 0
    seen: dict[str, None] = field(default_factory=dict)  # ordered: the order values came in
    evidence: deque[str] = field(default_factory=lambda: deque(maxlen=EVIDENCE_LINES))


class LeakyBucket:
    """CrowdSec's leaky bucket per key (see the module docstring)."""

    def __init__(
        self, capacity: int, leak_s: float, *, distinct: bool = False, blackhole_s: float = 0.0
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: expected 1 or more, got {capacity}")
        if leak_s <= 0:
            raise ValueError(f"leak_s: expected a positive number, got {leak_s}")
        self.capacity = capacity
        self.leak_s = leak_s
        self.distinct = distinct
        self.blackhole_s = blackhole_s
        self._keys: dict[str, _BucketState] = {}
        self._silenced: dict[str, datetime] = {}

    def add(self, key: str, time: datetime, raw: str, distinct_value: str = "") -> Overflow | None:
        """Pour one event of ``key`` (``distinct_value`` when distinct); the overflow if any."""
        if self._silenced and key in self._silenced:
            if time < self._silenced[key]:
                return None
            del self._silenced[key]
        state = self._keys.get(key)
        if state is not None:
            elapsed = (time - state.updated).total_seconds()
            state.level = max(0.0, state.level - max(elapsed, 0.0) / self.leak_s)
            state.updated = max(time, state.updated)
            if state.level == 0.0:
                state = None
        if state is None:
            state = self._keys[key] = _BucketState(level=0.0, updated=time, first_seen=time)
        if self.distinct:
            if distinct_value in state.seen:
                return None
            state.seen[distinct_value] = None
        state.level += 1.0
        state.poured += 1
        state.evidence.append(raw)
        if state.level <= self.capacity:
            return None
        del self._keys[key]
        if self.blackhole_s > 0:
            self._silenced[key] = time + timedelta(seconds=self.blackhole_s)
        return Overflow(
            key, state.first_seen, state.poured, tuple(state.evidence), tuple(state.seen)
        )

    def prune(self, now: datetime) -> None:
        """Forget buckets that have leaked empty and blackholes that have ended."""
        empty = [
            key
            for key, state in self._keys.items()
            if state.level - (now - state.updated).total_seconds() / self.leak_s <= 0
        ]
        for key in empty:
            del self._keys[key]
        for key in [key for key, until in self._silenced.items() if until <= now]:
            del self._silenced[key]

    def __len__(self) -> int:
        return len(self._keys)
