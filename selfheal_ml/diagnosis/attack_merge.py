"""One incident per attack: which Monitor incident an attack incident is the same trouble as.

A brute force shows twice: the Security agent confirms it from the log (an attack incident,
:mod:`selfheal_ml.diagnosis.attacks`), and the Monitor sees its failed logins (and the load they
cause) on the platform's metrics (an incident of the grouper, diagnosed ``brute_force_login``).
Users expect one incident. The two are the same attack when all three hold:

- **platform**: the Monitor incident has observations on the attack's platform;
- **security evidence**: one of them is a login metric (:data:`LOGIN_METRICS`: failed logins or
  login attempts on that platform), not only latency or CPU (an unrelated fault on the same
  platform during an attack stays an incident of its own);
- **time window**: the Monitor incident was active within ``window`` of the attack's
  activity (the grouper's own window, 900 s by default).

The Diagnostic agent then keeps one incident id (``agents/diagnostic.py``): the attack's, when
the Monitor incident had not been diagnosed yet; the Monitor's, when it had.

>>> from datetime import UTC, datetime, timedelta
>>> from selfheal_ml.diagnosis.grouping import OpenIncident
>>> from selfheal_ml.diagnosis.observations import Observation
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> seen = Observation(t0, "auth_failures_per_s", "auth_failures_per_s", "shop", 9.0, "anomaly")
>>> monitor = OpenIncident("i1", "c1", t0, t0, [seen])
>>> same_attack([monitor], "shop", t0 + timedelta(seconds=60), timedelta(seconds=900)) is monitor
True
>>> same_attack([monitor], "other", t0, timedelta(seconds=900)) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from selfheal_ml.diagnosis.grouping import OpenIncident
from selfheal_ml.metric_catalogue import AUTH_ATTEMPTS_PER_S, AUTH_FAILURES_PER_S

#: The platform metrics that are security evidence of an attack on logins.
LOGIN_METRICS = frozenset({AUTH_FAILURES_PER_S, AUTH_ATTEMPTS_PER_S})


def has_login_evidence(incident: OpenIncident, platform: str) -> bool:
    """Whether ``incident`` saw failed logins or login attempts move on ``platform``."""
    return any(
        observation.component == platform and observation.metric in LOGIN_METRICS
        for observation in incident.observations
    )


def same_attack(
    incidents: Iterable[OpenIncident], platform: str, at: datetime, window: timedelta
) -> OpenIncident | None:
    """The open Monitor incident that is the attack on ``platform`` active at ``at`` (module
    docstring), the earliest opened if several; ``None`` if none is."""
    found = [
        incident
        for incident in incidents
        if incident.last_seen >= at - window
        and incident.opened_at <= at + window
        and has_login_evidence(incident, platform)
    ]
    return min(found, key=lambda incident: incident.opened_at, default=None)
