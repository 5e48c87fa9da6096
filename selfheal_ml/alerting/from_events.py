"""Which bus events become alerts, and with what labels, annotations and severity.

A pure mapping: :func:`signal_from_event` turns an event into an :class:`AlertSignal` (fire or
resolve this label set) or ``None`` for events that are not alerts. Labels stay small and
stable (they are the alert's identity, so a repeat of the same condition deduplicates);
anything that changes from one occurrence to the next goes into annotations.

>>> from datetime import datetime, UTC
>>> from selfheal_ml.events import AgentFailed
>>> event = AgentFailed(ts=datetime(2026, 1, 5, tzinfo=UTC), source="supervisor",
...     agent="monitor", error="boom", failures=5)
>>> signal = signal_from_event(event)
>>> signal.labels, signal.severity, signal.firing
({'alertname': 'AgentFailed', 'agent': 'monitor'}, 'critical', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selfheal_ml.alerting.model import SEVERITIES, format_rfc3339
from selfheal_ml.events import (
    AgentFailed,
    AlertRaised,
    AnomalyDetected,
    BreachPredicted,
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    RepairEscalated,
    SecurityThreatDetected,
    Severity,
)

_NOT_IN_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")


def clean_labels(labels: dict[str, str]) -> dict[str, str]:
    """Prometheus-valid label names (other characters become ``_``); empty values dropped.

    >>> clean_labels({"http.method": "GET", "2xx": "yes", "empty": ""})
    {'http_method': 'GET', '_2xx': 'yes'}
    """
    cleaned: dict[str, str] = {}
    for name, value in labels.items():
        if not value:
            continue
        safe = _NOT_IN_LABEL_NAME.sub("_", name)
        cleaned["_" + safe if safe[:1].isdigit() or not safe else safe] = value
    return cleaned


@dataclass(frozen=True)
class AlertSignal:
    """Fire (``firing=True``) or resolve the alert with these labels (a resolution with
    ``any_severity`` resolves the alert whatever severity it fired with)."""

    labels: dict[str, str]
    severity: Severity
    annotations: dict[str, str] = field(default_factory=dict)
    firing: bool = True
    any_severity: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", clean_labels(self.labels))


def _context(event: Event) -> dict[str, str]:
    return {"source": event.source, "correlation_id": event.correlation_id}


def _from_alert_raised(event: AlertRaised) -> AlertSignal:
    """The Monitor's alert; an inhibited one (a running repair's side effect explains it) is
    kept as ``info`` naming the repair, and a cleared condition resolves it at any severity."""
    labels = {**event.labels, "alertname": event.alertname}
    annotations = {**_context(event), **event.annotations}
    if event.inhibited_by:
        annotations["inhibited_by"] = event.inhibited_by
        return AlertSignal(labels, "info", annotations)
    return AlertSignal(
        labels, event.severity, annotations, firing=event.firing, any_severity=not event.firing
    )


def _from_anomaly(event: AnomalyDetected) -> AlertSignal:
    labels = {**event.labels, "alertname": "AnomalyDetected", "series": event.series}
    annotations = {
        **_context(event),
        "summary": (
            f"{event.series} = {event.value:g} outside expected "
            f"[{event.expected_low:g}, {event.expected_high:g}]"
        ),
        "score": f"{event.score:.4g}",
        "detector": event.detector,
    }
    if event.explanation:
        annotations["description"] = event.explanation
    return AlertSignal(labels, event.severity, annotations)


def _from_breach(event: BreachPredicted) -> AlertSignal:
    labels = {**event.labels, "alertname": "CapacityBreachPredicted", "series": event.series}
    eta = format_rfc3339(event.eta)
    annotations = {
        **_context(event),
        "summary": f"{event.series} forecast to cross {event.limit:g} by {eta}",
        "limit": f"{event.limit:g}",
        "eta": eta,
        "probability": f"{event.probability:.3f}",
    }
    return AlertSignal(labels, "warning", annotations)


def _from_agent_failed(event: AgentFailed) -> AlertSignal:
    annotations = {
        **_context(event),
        "summary": f"agent {event.agent} failed {event.failures} times and was stopped",
        "error": event.error,
        "failures": str(event.failures),
    }
    return AlertSignal({"alertname": "AgentFailed", "agent": event.agent}, "critical", annotations)


def _from_threat(event: SecurityThreatDetected) -> AlertSignal:
    labels = {
        "alertname": "SecurityThreatDetected",
        "kind": event.kind,
        "source_ip": event.source_ip,
    }
    annotations = {**_context(event), "summary": f"{event.kind} from {event.source_ip}"}
    if event.evidence:
        annotations["evidence"] = event.evidence
    return AlertSignal(labels, event.severity, annotations)


def _incident_labels(incident_id: str) -> dict[str, str]:
    return {"alertname": "IncidentDiagnosed", "incident_id": incident_id}


def _from_incident(event: IncidentDiagnosed) -> AlertSignal:
    diagnosis = event.diagnosis
    ranking = "; ".join(f"{rank}. {cause}" for rank, cause in enumerate(event.root_causes, 1))
    annotations = {
        **_context(event),
        "summary": f"incident {event.incident_id} on {', '.join(event.platforms) or 'unknown'}",
        "root_causes": ranking or "unknown",
        "confidence": f"{event.confidence:.3f}",
        "revision": str(diagnosis.revision),
        "description": diagnosis.summary,
    }
    if event.recommendation:
        annotations["recommendation"] = event.recommendation
    severity = diagnosis.severity if diagnosis.severity in SEVERITIES else "warning"
    return AlertSignal(_incident_labels(event.incident_id), severity, annotations)


def _from_escalation(event: RepairEscalated) -> AlertSignal:
    """A person must act: critical, naming the incident and why the loop gave up."""
    annotations = {
        **_context(event),
        "summary": f"incident {event.incident_id} escalated to a person: {event.reason}",
        "reason": event.reason,
    }
    labels = {"alertname": "IncidentEscalated", "incident_id": event.incident_id}
    return AlertSignal(labels, "critical", annotations)


def _from_status(event: IncidentStatusChanged) -> AlertSignal | None:
    """A resolved or recovered incident resolves its ``IncidentDiagnosed`` alert."""
    if not event.status.closed:
        return None
    annotations = {**_context(event), "summary": f"incident {event.incident_id} {event.status}"}
    labels = _incident_labels(event.incident_id)
    return AlertSignal(labels, "info", annotations, firing=False, any_severity=True)


def signal_from_event(event: Event) -> AlertSignal | None:
    """The alert an event stands for, or ``None`` when it is not an alert."""
    if isinstance(event, AlertRaised):
        return _from_alert_raised(event)
    if isinstance(event, AnomalyDetected):
        # an info anomaly is a record (``/v1/anomalies``, diagnostic evidence), not an alert
        return None if event.severity == "info" else _from_anomaly(event)
    if isinstance(event, BreachPredicted):
        return _from_breach(event)
    if isinstance(event, AgentFailed):
        return _from_agent_failed(event)
    if isinstance(event, SecurityThreatDetected):
        return _from_threat(event)
    if isinstance(event, IncidentDiagnosed):
        return _from_incident(event)
    if isinstance(event, RepairEscalated):
        return _from_escalation(event)
    if isinstance(event, IncidentStatusChanged):
        return _from_status(event)
    return None
