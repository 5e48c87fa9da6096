"""Whether a banned attacker has stopped: the banned addresses' traffic, watched after the ban.

A ban refuses an attacker's requests; it does not stop them from sending. The log still shows
every refused request (a 403 from the application, a bouncer's own log), so the attack is over
only when its address falls silent. :class:`BanWatch` keeps, for each address banned for an
attack, when it was banned, until when, and when the log last showed it;
:meth:`BanWatch.quiet` reports each address that has been silent for ``quiet_s`` while its ban
held, once. An address whose ban runs out first is dropped unreported: if it comes back, the
detector finds it again and a new ban is watched.

Time is the records' own and the caller's ``now`` (nothing reads a clock).

>>> from datetime import datetime, timedelta, UTC
>>> from selfheal_ml.security.records import EventKind, LogRecord
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> watch = BanWatch(quiet_s=120)
>>> watch.banned("203.0.113.5", start, start + timedelta(minutes=10), correlation_id="c1")
>>> watch.saw([LogRecord(start + timedelta(seconds=60), EventKind.REQUEST, "203.0.113.5")])
>>> watch.quiet(start + timedelta(seconds=150))  # refused traffic a minute ago: still going
[]
>>> [(q.address, q.last_seen - start) for q in watch.quiet(start + timedelta(seconds=180))]
[('203.0.113.5', datetime.timedelta(seconds=60))]
>>> watch.quiet(start + timedelta(seconds=600))  # reported once
[]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from selfheal_ml.security.records import LogRecord

QUIET_S = 120.0


@dataclass(frozen=True)
class QuietSource:
    """A banned address that went silent while its ban held."""

    address: str
    banned_at: datetime
    last_seen: datetime
    until: datetime
    correlation_id: str


@dataclass
class _Watched:
    banned_at: datetime
    last_seen: datetime
    until: datetime
    correlation_id: str


class BanWatch:
    """Banned addresses and when the log last showed them (module docstring)."""

    def __init__(self, quiet_s: float = QUIET_S) -> None:
        if quiet_s <= 0:
            raise ValueError(f"quiet_s: expected a positive number, got {quiet_s}")
        self.quiet_s = quiet_s
        self._quiet = timedelta(seconds=quiet_s)
        self._watched: dict[str, _Watched] = {}

    def banned(
        self, address: str, at: datetime, until: datetime, *, correlation_id: str = ""
    ) -> None:
        """Watch ``address``, banned at ``at`` until ``until`` (a new ban replaces the old)."""
        self._watched[address] = _Watched(at, at, until, correlation_id)

    def saw(self, records: Iterable[LogRecord]) -> None:
        """Note the watched addresses that appear in ``records``."""
        watched = self._watched
        if not watched:
            return
        for record in records:
            entry = watched.get(record.source_ip)
            if entry is not None and record.time > entry.last_seen:
                entry.last_seen = record.time

    def quiet(self, now: datetime) -> list[QuietSource]:
        """The addresses silent for ``quiet_s`` with their ban still in force (each once)."""
        found: list[QuietSource] = []
        for address, entry in list(self._watched.items()):
            if now - entry.last_seen >= self._quiet and entry.last_seen + self._quiet < entry.until:
                found.append(QuietSource(address, entry.banned_at, entry.last_seen, entry.until,
                                         entry.correlation_id))  # fmt: skip
                del self._watched[address]
            elif now >= entry.until:
                del self._watched[address]  # the ban ran out first: not known to have stopped
        return found

    def __len__(self) -> int:
        return len(self._watched)
