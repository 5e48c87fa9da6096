"""Bus events become alerts with stable labels; changing details go to annotations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from selfheal_ml.alerting import AlertManager
from selfheal_ml.alerting.from_events import signal_from_event
from selfheal_ml.clock import SimClock
from selfheal_ml.events import (
    AgentFailed,
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    IncidentDiagnosed,
    SecurityThreatDetected,
    Tick,
)
from selfheal_ml.lifecycle import CauseCandidate, Diagnosis

ManagerFactory = Callable[..., AlertManager]  # the make_manager fixture (conftest.py)

TS = datetime(2026, 1, 5, tzinfo=UTC)


def anomaly(value: float) -> AnomalyDetected:
    return AnomalyDetected(
        ts=TS,
        source="predictive",
        series="http_latency_p95_ms",
        value=value,
        score=4.2,
        expected_low=100.0,
        expected_high=900.0,
        detector="HalfSpaceTrees",
        labels={"platform": "leadsite.ai"},
        explanation="latency jumped",
    )


def test_anomaly_maps_to_warning_with_series_label() -> None:
    signal = signal_from_event(anomaly(2500.0))
    assert signal is not None
    assert signal.labels == {
        "alertname": "AnomalyDetected",
        "series": "http_latency_p95_ms",
        "platform": "leadsite.ai",
    }
    assert signal.severity == "warning" and signal.firing
    assert "2500" in signal.annotations["summary"]
    assert signal.annotations["description"] == "latency jumped"


def test_an_info_anomaly_is_a_record_not_an_alert() -> None:
    """Below the warning score the Predictive agent marks an anomaly ``info``: it is stored
    and weighed by the Diagnostic agent, but raises no alert on its own."""
    assert signal_from_event(anomaly(2500.0).model_copy(update={"severity": "info"})) is None


def test_other_events_map_to_named_alerts() -> None:
    breach = BreachPredicted(
        ts=TS,
        source="predictive",
        series="disk_used_percent",
        limit=90.0,
        eta=TS + timedelta(hours=6),
        probability=0.8,
    )
    failed = AgentFailed(ts=TS, source="supervisor", agent="repair", error="boom", failures=5)
    threat = SecurityThreatDetected(
        ts=TS,
        source="security",
        kind="brute_force",
        source_ip="10.0.0.9",
        severity="critical",
        evidence="50 fails",
    )
    incident = IncidentDiagnosed(
        ts=TS,
        source="diagnostic",
        incident_id="inc-1",
        diagnosis=Diagnosis(
            revision=1,
            opened_at=TS,
            platforms=("leadsite.ai",),
            candidates=(
                CauseCandidate(
                    cause="db_pool",
                    component="postgres",
                    score=0.9,
                    fit=0.9,
                    strategy="reset_db_connections",
                ),
                CauseCandidate(
                    cause="cpu", component="leadsite.ai", score=0.4, fit=0.4, strategy="scale_out"
                ),
            ),
            strategy="restart_pool",
            confidence=0.7,
        ),
    )
    signals = [signal_from_event(e) for e in (breach, failed, threat, incident)]
    assert all(s is not None for s in signals)
    b, f, t, i = (s for s in signals if s is not None)
    assert (b.labels["alertname"], b.severity) == ("CapacityBreachPredicted", "warning")
    assert b.annotations["eta"] == "2026-01-05T06:00:00Z"
    assert (f.labels, f.severity) == ({"alertname": "AgentFailed", "agent": "repair"}, "critical")
    assert (t.labels["alertname"], t.labels["source_ip"], t.severity) == (
        "SecurityThreatDetected",
        "10.0.0.9",
        "critical",
    )
    assert i.annotations["root_causes"] == "1. db_pool@postgres; 2. cpu@leadsite.ai"
    assert i.annotations["recommendation"] == "restart_pool"


def test_non_alert_events_are_ignored() -> None:
    assert signal_from_event(Tick(ts=TS, source="scheduler", kind="collect")) is None


def test_handle_event_deduplicates_and_resolves(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    manager = make_manager()
    first = manager.handle_event(anomaly(2500.0))
    again = manager.handle_event(anomaly(2700.0))
    assert first is not None and again is not None and again.alert_id == first.alert_id
    assert "2700" in again.annotations["summary"]
    raised = AlertRaised(
        ts=sim_clock.now(),
        source="monitor",
        alertname="TargetDown",
        severity="critical",
        labels={"target": "api"},
    )
    assert manager.handle_event(raised) is not None
    assert manager.counts().active == 2
    cleared = raised.model_copy(update={"firing": False})
    resolved = manager.handle_event(cleared)
    assert resolved is not None and resolved.status == "resolved"
    counts = manager.counts()
    assert (counts.active, counts.total, counts.auto_resolved) == (1, 2, 1)


def test_an_escalation_is_a_critical_alert_and_a_closed_incident_resolves_its_alert() -> None:
    from selfheal_ml.events import IncidentStatusChanged, RepairEscalated
    from selfheal_ml.lifecycle import IncidentStatus

    escalated = signal_from_event(
        RepairEscalated(ts=TS, source="Repair", incident_id="inc-9", reason="breaker open")
    )
    assert escalated is not None and escalated.severity == "critical" and escalated.firing
    assert escalated.labels == {"alertname": "IncidentEscalated", "incident_id": "inc-9"}
    assert "inc-9" in escalated.annotations["summary"]
    assert "breaker open" in escalated.annotations["summary"]
    done = signal_from_event(
        IncidentStatusChanged(
            ts=TS, source="Repair", incident_id="inc-9", status=IncidentStatus.RECOVERED
        )
    )
    assert done is not None and not done.firing and done.any_severity
    assert done.labels == {"alertname": "IncidentDiagnosed", "incident_id": "inc-9"}
    still = IncidentStatusChanged(
        ts=TS, source="Repair", incident_id="inc-9", status=IncidentStatus.VERIFYING
    )
    assert signal_from_event(still) is None


def test_an_inhibited_alert_is_kept_as_info_and_its_clearing_resolves_it(
    make_manager: ManagerFactory, sim_clock: SimClock
) -> None:
    reason = "restart_service for incident i1: a restart fails the requests in flight"
    raised = AlertRaised(
        ts=sim_clock.now(), source="monitor", alertname="ServerErrors", severity="warning",
        labels={"platform": "a"}, inhibited_by=reason,
    )  # fmt: skip
    signal = signal_from_event(raised)
    assert signal is not None and signal.severity == "info"
    assert signal.annotations["inhibited_by"] == reason
    manager = make_manager()
    fired = manager.handle_event(raised)
    assert fired is not None and fired.labels["severity"] == "info"
    # the condition clears (a clearing carries the rule's own severity): the info alert resolves
    cleared = raised.model_copy(update={"firing": False, "inhibited_by": ""})
    resolved = manager.handle_event(cleared)
    assert resolved is not None and resolved.alert_id == fired.alert_id
    assert resolved.status == "resolved"
