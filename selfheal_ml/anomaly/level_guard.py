"""A level guard: a gauge whose level moves the wrong way is news, however often it happens.

The default detector learns what it sees. That is right for NAB-style series, and wrong for a
gauge whose bad direction is known: a cache hit ratio that collapsed from 93 % to 30 % an hour
ago, and was repaired, is not "normal" the next time it collapses. After one such episode the
ensemble's categories, profiles and calibrators know the low level, and a second, third,
fourth collapse scored 0 (the chaos benchmark's stuck caches alone: 5 of 25 detected).

The guard keeps a slow estimate of the healthy level (an exponentially weighted mean with a
mean absolute deviation) and scores a point that departs in the bad direction by at least
``max(min_change, noise_multiple x deviation)``: ``threshold x departure / limit``, so a
departure of exactly the limit scores the alert threshold. Departing points are not learned
(a fault never becomes the healthy level) until the departure has lasted ``accept_after_s``:
then the level moves there (a new normal, e.g. a deliberately smaller cache). Points in the
good direction, or within the limit, are learned. A noisy gauge (few lookups per interval)
has a wide deviation, hence a wide limit, and stays quiet.

>>> guard = LevelGuard(LevelRule(direction=-1, min_change=0.2))
>>> [guard.update(60.0 * i, 0.93, 8.0) for i in range(100)][-1]
0.0
>>> round(guard.update(6000.0, 0.33, 8.0), 1)  # 0.6 below a level of 0.93: 3x the limit
24.0
>>> round(guard.update(6060.0, 0.92, 8.0), 1)  # back to healthy
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

WARMUP_POINTS = 60
RATE = 1.0 / 720.0  # about half a day of one-minute points


@dataclass(frozen=True)
class LevelRule:
    """How one gauge is guarded: ``direction`` -1 when a drop is bad, +1 for a rise;
    ``min_change`` the absolute move that is news on its own (in the gauge's unit);
    ``noise_multiple`` how many mean absolute deviations a move must also exceed;
    ``accept_after_s`` how long a departure lasts before it becomes the level."""

    direction: int
    min_change: float
    noise_multiple: float = 6.0
    accept_after_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if self.direction not in (-1, 1):
            raise ValueError(f"direction: expected -1 or 1, got {self.direction}")
        if not self.min_change > 0:
            raise ValueError(f"min_change: expected a number > 0, got {self.min_change}")


class LevelGuard:
    """The healthy level of one gauge and the score of departures from it (module doc)."""

    __slots__ = ("count", "deviation", "level", "off_since", "rule")

    def __init__(self, rule: LevelRule) -> None:
        self.rule = rule
        self.level = 0.0
        self.deviation = 0.0
        self.count = 0
        self.off_since: float | None = None

    def limit(self) -> float:
        """The smallest departure that scores."""
        rule = self.rule
        return max(rule.min_change, rule.noise_multiple * self.deviation)

    def bounds(self) -> tuple[float, float] | None:
        """The healthy range around the level, once warm."""
        if self.count < WARMUP_POINTS:
            return None
        limit = self.limit()
        return (self.level - limit, self.level + limit)

    def update(self, ts_s: float, value: float, threshold: float) -> float:
        """Score ``value`` against the level (0 while warming up or healthy), then learn it
        unless it departs in the bad direction (see the module doc)."""
        if self.count < WARMUP_POINTS:
            self.count += 1
            self._learn(value, 1.0 / self.count)
            return 0.0
        departure = self.rule.direction * (value - self.level)
        limit = self.limit()
        if departure < limit:
            self.off_since = None
            self._learn(value, RATE)
            return 0.0
        if self.off_since is None:
            self.off_since = ts_s
        elif ts_s - self.off_since >= self.rule.accept_after_s:
            self.level, self.off_since = value, None  # a lasting move is the new level
            return 0.0
        return threshold * departure / limit

    def _learn(self, value: float, rate: float) -> None:
        error = value - self.level
        self.level += rate * error
        if self.count > 1:
            self.deviation += rate * (abs(error) - self.deviation)
