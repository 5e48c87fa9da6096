"""Platform health roll-up: healthy / degraded / down from one round of findings.

A finding labelled with a platform weighs on that platform; a finding on a shared dependency
(no platform label: the database, the cache) weighs on every platform, since they all use it.

>>> from selfheal_ml.monitoring.thresholds import Finding
>>> down = Finding("TargetDown", "critical", {"platform": "a"}, "", 0.0, impact="down")
>>> platform_health(["a", "b"], [down])
{'a': 'down', 'b': 'healthy'}
>>> db = Finding("DatabaseConnectionFailure", "critical", {"dependency": "postgres"}, "", 0.0,
...              impact="down")
>>> platform_health(["a", "b"], [db])
{'a': 'degraded', 'b': 'degraded'}
"""

from __future__ import annotations

from collections.abc import Iterable

from selfheal_ml.events import HealthStatus
from selfheal_ml.monitoring.thresholds import Finding

_RANK: dict[HealthStatus, int] = {"healthy": 0, "degraded": 1, "down": 2}


def _worse(current: HealthStatus, candidate: HealthStatus) -> HealthStatus:
    return candidate if _RANK[candidate] > _RANK[current] else current


def platform_health(
    platforms: Iterable[str], findings: Iterable[Finding]
) -> dict[str, HealthStatus]:
    """The health of each platform given the findings that hold now."""
    health: dict[str, HealthStatus] = dict.fromkeys(platforms, "healthy")
    for finding in findings:
        platform = finding.labels.get("platform")
        if platform is None:  # a shared dependency degrades every platform using it
            for name in health:
                health[name] = _worse(health[name], "degraded")
            continue
        own: HealthStatus = "down" if finding.impact == "down" else "degraded"
        health[platform] = _worse(health.get(platform, "healthy"), own)
    return health
