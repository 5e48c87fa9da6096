"""The Diagnostic agent's diagnosis step: one open incident in, one ``IncidentDiagnosed`` out.

The agent decides *when* an incident is ready (grouping, triage); this decides *what* it is:
it ranks the candidate causes (:class:`~selfheal_ml.agents.evidence.EvidenceGatherer`:
signatures, history, the repair classifier), numbers the revision
(:class:`~selfheal_ml.diagnosis.revisions.RevisionBook`: a new one only when later evidence
moves the top candidate, none for anomalies that match no signature and break no threshold),
asks the investigators about the top three candidates, and composes the typed diagnosis, whose
anomaly bands it widens to each series' healthy range at this time of day
(:mod:`~selfheal_ml.diagnosis.healthy_range`: a repair is judged against what the series does
when nothing is wrong, not only the detector's band at detection). An
incident the Security agent handed over (the same attack) carries the attack's summary among
its findings and stays critical, as the confirmed attack's own diagnosis was.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.evidence import EvidenceGatherer
from selfheal_ml.agents.investigations import Investigations
from selfheal_ml.clock import run_blocking
from selfheal_ml.diagnosis import OpenIncident
from selfheal_ml.diagnosis.attacks import AttackBook, attack_summary
from selfheal_ml.diagnosis.healthy_range import healthy_range, history_span, widen_to_healthy
from selfheal_ml.diagnosis.revisions import RevisionBook
from selfheal_ml.events import IncidentDiagnosed
from selfheal_ml.lifecycle import Diagnosis


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

    def widened(self, diagnosis: Diagnosis, now: datetime) -> Diagnosis:
        """``diagnosis`` with each band of a range trigger widened to its series' healthy
        range around ``now``'s time of day, read from the store (unchanged without one)."""
        keys = [t.key for t in diagnosis.triggers if t.kind == "range" and t.low is not None]
        if self.metrics is None or not keys:
            return diagnosis
        frames = self.metrics.window_many(keys, *history_span(now))
        triggers = tuple(
            widen_to_healthy(trigger, healthy_range(_points(frames.get(trigger.key)), now))
            for trigger in diagnosis.triggers
        )
        return diagnosis.model_copy(update={"triggers": triggers})

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
        diagnosis = await run_blocking(self.clock, self.widened, evidence.compose(), now)
        incident.explained_by(diagnosis.root_cause)
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


def _points(frame: pd.DataFrame | None) -> pd.Series:
    """A store window's ``ts, value`` frame as a time-indexed series (empty without one)."""
    if frame is None or frame.empty:
        return pd.Series(dtype="float64")
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["ts"]))
