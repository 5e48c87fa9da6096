"""Playbooks: per incident signature, how often each strategy was tried and how often it worked.

A :class:`PlaybookEntry` carries the counts; its success rate comes with a Wilson interval, and
strategies are ranked by the interval's lower bound, so one lucky success does not outrank a
long record.

>>> entries = [
...     PlaybookEntry("sig", "restart_service", attempts=1, successes=1),
...     PlaybookEntry("sig", "rollback_config", attempts=20, successes=18),
... ]
>>> [entry.strategy for entry in rank_playbook(entries)]
['rollback_config', 'restart_service']
>>> round(entries[1].success_rate or 0.0, 2)
0.9
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from selfheal_ml.repair.metrics import wilson_interval


@dataclass(frozen=True)
class PlaybookEntry:
    """One strategy's record for one signature."""

    signature: str
    strategy: str
    attempts: int = 0
    successes: int = 0

    @property
    def success_rate(self) -> float | None:
        """Successes over attempts (``None`` before the first attempt)."""
        return self.successes / self.attempts if self.attempts else None

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % Wilson interval of the success rate."""
        return wilson_interval(self.successes, self.attempts)

    def with_outcome(self, worked: bool) -> PlaybookEntry:
        """The entry after one more verified attempt."""
        return replace(self, attempts=self.attempts + 1, successes=self.successes + int(worked))


def rank_playbook(entries: Iterable[PlaybookEntry]) -> list[PlaybookEntry]:
    """Best first: by the Wilson lower bound, then by attempts, then by name."""
    return sorted(entries, key=lambda entry: (-entry.interval[0], -entry.attempts, entry.strategy))
