"""Which Monitor incident is the same attack: platform, login evidence, time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.diagnosis.attack_merge import has_login_evidence, same_attack
from selfheal_ml.diagnosis.grouping import IncidentGrouper, OpenIncident, Topology
from selfheal_ml.diagnosis.observations import Observation

T0 = datetime(2026, 1, 5, tzinfo=UTC)
WINDOW = timedelta(seconds=900)


def seen(
    seconds: float, metric: str, component: str = "shop", status_class: str | None = None
) -> Observation:
    labels = (("status_class", status_class),) if status_class else ()
    return Observation(
        T0 + timedelta(seconds=seconds), metric, metric, component, 9.0, "anomaly", labels
    )


def incident(name: str, *observations: Observation) -> OpenIncident:
    first, last = observations[0].ts, observations[-1].ts
    return OpenIncident(name, "c-" + name, first, last, list(observations))


def test_latency_alone_is_not_security_evidence() -> None:
    slow = incident("i1", seen(0, "http_latency_p95_ms"))
    assert not has_login_evidence(slow, "shop")
    assert same_attack([slow], "shop", T0, WINDOW) is None


def test_the_earliest_incident_with_failed_logins_within_the_window() -> None:
    old = incident("old", seen(0, "auth_failures_per_s"))
    newer = incident("newer", seen(600, "http_latency_p95_ms"), seen(660, "auth_attempts_per_s"))
    at = T0 + timedelta(seconds=700)
    assert same_attack([newer, old], "shop", at, WINDOW) is old
    assert same_attack([newer, old], "shop", at + timedelta(seconds=300), WINDOW) is newer
    assert same_attack([old], "shop", T0 - timedelta(seconds=901), WINDOW) is None


def test_rekey_moves_an_open_incident_and_its_index() -> None:
    grouper = IncidentGrouper(Topology())
    opened = grouper.add(seen(0, "auth_failures_per_s"))
    moved = grouper.rekey(opened.incident_id, "attack-1", "corr-1")
    assert moved is opened and set(grouper.open) == {"attack-1"}
    assert (opened.incident_id, opened.correlation_id) == ("attack-1", "corr-1")
    failed = seen(30, "http_error_ratio", status_class="4xx")
    assert grouper.add(failed) is opened  # found through the index
    assert grouper.rekey("missing", "x", "y") is None


def test_a_merge_keeps_the_ids_an_incident_took_from_a_published_attack() -> None:
    # dev seed 2001: a database-noise incident (open before the attack) and the attack's
    # failed-login incident (rekeyed to the attack's ids) both took the platform's latency, and
    # the merge kept the older one's ids: the attack's incident vanished from the grouper (a
    # failed-login incident takes the platform's failed requests, no longer its latency)
    grouper = IncidentGrouper(Topology())
    noise = grouper.add(seen(0, "db_query_duration_ms", "postgres"))
    logins = grouper.add(seen(60, "auth_failures_per_s"))
    assert logins is not noise
    grouper.rekey(logins.incident_id, "attack-1", "corr-1")
    joined = grouper.add(seen(120, "http_error_ratio", status_class="4xx"))
    assert joined.incident_id == "attack-1" and set(grouper.open) == {"attack-1"}
    assert {o.metric for o in joined.observations} >= {
        "db_query_duration_ms",
        "auth_failures_per_s",
    }
