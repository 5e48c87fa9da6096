"""The Diagnostic agent's diagnosis step: one open incident in, one ``IncidentDiagnosed`` out.

The agent decides *when* an incident is ready (grouping, triage); this decides *what* it is:
it ranks the candidate causes (:class:`~selfheal_ml.agents.evidence.EvidenceGatherer`:
signatures, history, the repair classifier), numbers the revision
(:class:`~selfheal_ml.diagnosis.revisions.RevisionBook`: a new one only when later evidence
moves the top candidate, none for anomalies that match no signature and break no threshold),
asks the investigators about the top three candidates, and composes the typed diagnosis. An
incident the Security agent handed over (the same attack) carries the attack's summary among
its findings and stays critical, as the confirmed attack's own diagnosis was.
"""

from __future__ import annotations

import logging
from datetime import datetime

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.evidence import EvidenceGatherer
from selfheal_ml.agents.investigations import Investigations
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import OpenIncident
from selfheal_ml.diagnosis.attacks import AttackBook, attack_summary
from selfheal_ml.diagnosis.revisions import RevisionBook
from selfheal_ml.events import IncidentDiagnosed


class IncidentDiagnoser:
    """Diagnoses ready incidents for the agent named ``source`` (module docstring).

    It reads the Diagnostic agent's ports from ``context.extras``: ``incidents``,
    ``repair_model``, ``investigators``, ``change_log``, ``platforms``, ``anomaly_store``.
    """

    def __init__(self, source: str, context: AgentContext, log: logging.Logger) -> None:
        self.source = source
        self.clock = context.clock
        self.metrics = context.metrics
        self.log = log
        extras = context.extras
        self.gatherer = EvidenceGatherer(
            incidents=extras.get("incidents"),
            recommender=extras.get("repair_model"),
            change_log=extras.get("change_log"),
            platform_names=sorted(extras.get("platforms") or []),
            scores=extras.get("anomaly_store"),
            catalogue=self._series_catalogue if context.metrics is not None else None,
        )
        self.investigations = Investigations(list(extras.get("investigators") or []), log)
        self.revision_book = RevisionBook()
        self.diagnosed = 0

    def _series_catalogue(self) -> list[str]:
        assert self.metrics is not None
        return list(self.metrics.catalogue()["series"])

    async def diagnose(
        self, incident: OpenIncident, now: datetime, attacks: AttackBook
    ) -> IncidentDiagnosed | None:
        """Diagnose ``incident`` (again, if its top candidate changed); ``None`` if unchanged
        or when nothing explains it and no threshold broke."""
        candidates = self.gatherer.candidates(incident)
        revision = self.revision_book.next_revision(incident, candidates)
        incident.examined_at = now
        if revision is None:
            return None
        incident.diagnosed_at = now
        findings = await self.investigations.findings(candidates[:3], incident.observations)
        evidence = await run_blocking(
            self.clock, self.gatherer.gather, incident, candidates, revision, now, findings
        )
        diagnosis = evidence.compose()
        attack = attacks.handed_over(incident.incident_id)
        if attack is not None:  # the Security agent's side of the same attack: confirmed
            noted = (*diagnosis.findings, f"security: {attack_summary(attack)}")
            diagnosis = diagnosis.model_copy(update={"findings": noted, "severity": "critical"})
        self.diagnosed += 1
        self.log.info(
            "incident %s (revision %d): %s", incident.incident_id, revision, diagnosis.summary
        )
        return IncidentDiagnosed(
            ts=now, source=self.source, correlation_id=incident.correlation_id,
            incident_id=incident.incident_id, diagnosis=diagnosis,
        )  # fmt: skip
