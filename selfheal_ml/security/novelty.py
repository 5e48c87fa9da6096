"""An online novelty score per source: how unusual is this address's way of using the site?

Each address keeps a small profile, updated per request: its request rate (decayed count,
one-minute half-life), the share of its requests that failed (status >= 400), that asked for
a path it had not asked for before, and that were not GET/HEAD. These four numbers, squashed
to [0, 1], go to one ``HalfSpaceTrees`` shared by every source (:mod:`.half_space_trees`:
river's algorithm and scores, without river's imports): a profile far from what most sources
look like scores high. Score first, then learn (the river contract); nothing is
scored before ``warmup_events`` requests have been learned.

>>> from datetime import datetime, timedelta, UTC
>>> from selfheal_ml.security.records import EventKind, LogRecord
>>> novelty = AccessNovelty(warmup_events=10, seed=1)
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> record = LogRecord(start, EventKind.REQUEST, source_ip="192.0.2.1", method="GET", path="/")
>>> novelty.score(record)
0.0
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from selfheal_ml.security.half_space_trees import HalfSpaceTrees
from selfheal_ml.security.records import LogRecord

_RATE_HALF_LIFE_S = 60.0
_RATE_SCALE = 20.0  # requests per half-life that count as "fast" (squashed, not clipped)
_SHARE_WEIGHT = 0.1  # exponential moving average weight of each request in the shares
_PATHS_PER_SOURCE = 256
_SOURCES = 50_000


@dataclass
class _Profile:
    updated: datetime
    rate: float = 0.0
    failed: float = 0.0
    fresh_path: float = 0.0
    writes: float = 0.0
    events: int = 0
    paths: OrderedDict[str, None] = field(default_factory=OrderedDict)


def _ewma(previous: float, value: float) -> float:
    return previous + _SHARE_WEIGHT * (value - previous)


class AccessNovelty:
    """Per-source access profiles scored by one ``HalfSpaceTrees`` (module docstring)."""

    def __init__(self, warmup_events: int = 500, seed: int = 0) -> None:
        self.warmup_events = warmup_events
        self.seed = seed
        self.model_ = HalfSpaceTrees(n_trees=10, height=8, window_size=250, seed=seed)
        self.learned_ = 0
        self._profiles: OrderedDict[str, _Profile] = OrderedDict()

    def events_of(self, source: str) -> int:
        """How many requests from ``source`` the profile has seen."""
        profile = self._profiles.get(source)
        return 0 if profile is None else profile.events

    def score(self, record: LogRecord) -> float:
        """Update ``record``'s source profile and return its novelty in [0, 1]."""
        features = self._update(record)
        value = (
            float(self.model_.score_one(features)) if self.learned_ >= self.warmup_events else 0.0
        )
        self.model_.learn_one(features)
        self.learned_ += 1
        return value if math.isfinite(value) else 0.0

    def _update(self, record: LogRecord) -> dict[str, float]:
        profile = self._profiles.get(record.source_ip)
        if profile is None:
            profile = self._profiles[record.source_ip] = _Profile(updated=record.time)
            if len(self._profiles) > _SOURCES:
                self._profiles.popitem(last=False)
        else:
            self._profiles.move_to_end(record.source_ip)
        elapsed = max((record.time - profile.updated).total_seconds(), 0.0)
        profile.rate = profile.rate * 0.5 ** (elapsed / _RATE_HALF_LIFE_S) + 1.0
        profile.updated = max(profile.updated, record.time)
        path = record.path.partition("?")[0]
        fresh = path not in profile.paths
        profile.paths[path] = None
        if len(profile.paths) > _PATHS_PER_SOURCE:
            profile.paths.popitem(last=False)
        profile.failed = _ewma(profile.failed, float(record.status >= 400))
        profile.fresh_path = _ewma(profile.fresh_path, float(fresh))
        profile.writes = _ewma(profile.writes, float(record.method not in ("GET", "HEAD")))
        profile.events += 1
        return {
            "rate": profile.rate / (profile.rate + _RATE_SCALE),
            "failed": profile.failed,
            "fresh_path": profile.fresh_path,
            "writes": profile.writes,
        }
