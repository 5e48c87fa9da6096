"""The request profile live: one per platform, learning from the requests the sources read.

:class:`~.request_profile.RequestProfile` needs an application's normal requests; live,
nobody labels them, so :class:`PlatformProfiles` learns from the traffic itself, guarded the
way river's ``protect_anomaly_detector`` guards a detector against learning what it flags:

- a request is learnt only if nothing flagged it (not the injection scorer, not the profile
  itself), its source address is not banned, and it did not fail (status >= 400: a probe for
  ``carrito.jsp.BAK`` gets a 404, and learning probes would make them normal);
- nothing is flagged before the platform's profile has learnt ``warmup_requests`` requests;
- each platform (``LogRecord.platform``; ``""`` when the log does not say) has its own
  profile, at most ``max_platforms`` of them.

A request is flagged when its profile score (``-log10(prod(1 - anomaly))``, the number of
nines; :mod:`.request_profile`) reaches ``threshold``. The detector counts flagged requests
per address in a leaky bucket (:class:`~.rules.DetectionRules`'s ``unusual_request``), so one
odd request is not a finding.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.security.records import EventKind, LogRecord
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> def get(path):
...     return LogRecord(at, EventKind.REQUEST, "192.0.2.7", method="GET", path=path, status=200)
>>> profiles = PlatformProfiles(warmup_requests=30)
>>> profiles.check([get(f"/item.jsp?id={n % 3}") for n in range(30)], set(), lambda _: False)
{}
>>> flagged = profiles.check([get("/item.jsp?id=1"), get("/item.jsp?id=1'--")], set(), str.isspace)
>>> {index: round(score, 1) for index, score in flagged.items()}
{1: 7.0}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.request_parts import parse_request
from selfheal_ml.security.request_profile import RequestProfile

DEFAULT_WARMUP_REQUESTS = 2000
# 1-in-10,000; on CSIC 2010 the validation threshold at 0.1 % FPR was 4.22 (models/ card)
DEFAULT_THRESHOLD = 4.0
MAX_PLATFORMS = 64


class PlatformProfiles:
    """One request profile per platform, learnt and scored live (module docstring)."""

    def __init__(
        self,
        warmup_requests: int = DEFAULT_WARMUP_REQUESTS,
        threshold: float = DEFAULT_THRESHOLD,
        max_platforms: int = MAX_PLATFORMS,
    ) -> None:
        self.warmup_requests = warmup_requests
        self.threshold = threshold
        self.max_platforms = max_platforms
        self.profiles_: dict[str, RequestProfile] = {}

    def _profile(self, platform: str) -> RequestProfile | None:
        profile = self.profiles_.get(platform)
        if profile is None and len(self.profiles_) < self.max_platforms:
            profile = self.profiles_[platform] = RequestProfile()
        return profile

    def check(
        self, records: Sequence[LogRecord], flagged: set[int], banned: Callable[[str], bool]
    ) -> dict[int, float]:
        """Score the requests among ``records`` (positions in ``flagged`` were flagged by the
        injection scorer); learn the unflagged ones; the positions the profile flags, with
        their scores."""
        unusual: dict[int, float] = {}
        for index, record in enumerate(records):
            if record.kind is not EventKind.REQUEST:
                continue
            profile = self._profile(record.platform)
            if profile is None:
                continue
            parts = parse_request(record.method, record.path, record.body or None)
            if profile.observations_ >= self.warmup_requests:
                score = profile.score(parts)
                if score >= self.threshold:
                    unusual[index] = score
                    continue
            if index in flagged or record.status >= 400 or banned(record.source_ip):
                continue
            profile.learn(parts)
        return unusual
