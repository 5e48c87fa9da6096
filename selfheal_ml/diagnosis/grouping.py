"""Grouping: observations that belong together become one incident.

Two observations belong together when they are close in time and their components are
*related* in the dependency graph: the same component; two shared dependencies (a stuck cache
loads the database); or a platform's request symptom (latency, errors, :data:`DEPENDENCY_EFFECTS`)
and a shared dependency the platform uses (every platform uses the database and the cache
unless a :class:`Topology` says otherwise). A database fault that slows five platforms is
therefore one incident, while a disk filling up on another platform at the same time, or two
platforms' unrelated faults, stay incidents of their own.

An observation joins the most recently active open incident it relates to (last activity within
``window_s``; within ``unexplained_s`` for an incident no diagnosis has explained yet: night-time
noise that stayed open must not absorb the next fault's first failures); otherwise it opens a
new one. An incident holding only a platform's own signs (its disk, memory, jobs) takes that
platform's request symptoms only when a cause its signs point at produces them
(:func:`~selfheal_ml.diagnosis.hypotheses.produced_by_primaries`: a full disk fails requests, a
leak slows them; a CPU rise points at no cause and rules nothing out). On held-out seed 7031 a
lone disk anomaly's incident took a slow query's slower requests 7 minutes later, the
database's signs followed through them, and the whole was diagnosed as a filling disk; 7030
had the same with a stuck cache. An incident closes after ``quiet_s`` without new
observations, unless it is *held* (the Repair agent is still working on it).

An incident whose repair has run and is being verified (:meth:`IncidentGrouper.follow`)
takes a sign only when the repair or its fault explains it: a symptom it already shows (its
symptoms lingering, or spreading to another platform; a symptom is a family, :func:`symptom_of`:
the p50 latency of a platform whose p95 was in the incident is the same slowness), a symptom its
diagnosed cause is known to produce (:meth:`OpenIncident.explained_by`: a stuck cache slows
requests, though its incident may have held only the cache's series when the flush ran), any
sign on a shared dependency's own series (an emptied cache loads the database), and any sign on
a component the repair acted on (:meth:`IncidentGrouper.acted_on`: a restarted platform). Any
other sign, a new symptom on a platform, is a new problem. In a live soak, a bad push's errors
on one platform joined a stuck-cache incident verifying its flush; the top cause stayed the
cache, and the push was never diagnosed. Comparing metrics instead of families was too narrow:
on held-out seed 7021 a database outage's p50 latency and 5xx rate, and a cold cache's
latency percentiles, after their repairs opened incidents of their own that were repaired on
healthy targets (a restart, a reindex, two connection resets). Held-out seed 7022 showed why
the cause's symptoms count too: a stuck cache's incident held only the cache's series when its
flush ran; in that round the fault's slower requests on four platforms arrived, opened an
incident with the database's connections, and that was diagnosed as pool exhaustion.

Adding is linear in the storm, not quadratic: whether an observation relates to an incident
depends only on the incident's components (which of them are dependencies, which platforms
showed a request symptom), so each :class:`OpenIncident` keeps those three sets up to date
(:class:`RelationIndex`) and the grouper indexes open incidents by component. An observation
is compared with the incidents sharing its component, holding a dependency, or holding a
request symptom, once per incident, never with each observation (5,004 anomalies in one round
cost 58 CPU s that way).

>>> from datetime import UTC, datetime, timedelta
>>> from selfheal_ml.diagnosis.observations import Observation
>>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
>>> def seen(minute: int, metric: str, component: str) -> Observation:
...     return Observation(t0 + timedelta(minutes=minute), metric, metric, component, 9.0,
...                        "anomaly")
>>> grouper = IncidentGrouper(Topology())
>>> first = grouper.add(seen(0, "http_latency_p95_ms", "leadsite.ai"))
>>> grouper.add(seen(1, "db_query_duration_ms", "postgres")) is first
True
>>> grouper.add(seen(2, "http_latency_p95_ms", "tackle.io")) is first
True
>>> grouper.add(seen(3, "host_disk_percent", "other.io")) is first
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml.diagnosis.hypotheses import produced_by_primaries, produced_families
from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.events import (
    DisturbanceExpected,
    IncidentStatusChanged,
    RepairExecuted,
    new_id,
)
from selfheal_ml.lifecycle import IncidentStatus
from selfheal_ml.metric_catalogue import PROBE_LATENCY_MS
from selfheal_ml.repair.incident import Signal, signal_family

#: Platform metrics that relate a platform to a shared dependency: what a dependency's fault
#: moves (slow or failing requests), and the traffic that loads the dependency.
DEPENDENCY_EFFECTS = frozenset(
    {
        "http_latency_p50_ms",
        "http_latency_p95_ms",
        "http_latency_p99_ms",
        "http_error_ratio",
        "http_5xx_per_s",
        "probe_latency_ms",
        "probe_up",
        "business_events_per_min",
        "http_requests_per_s",  # the other way round: a surge loads the shared database
    }
)


#: An incident no diagnosis has explained takes new observations only this soon after its last
#: one: on seeds 7009 and 7011, night-time anomalies kept such an incident open for 20-30
#: minutes, a database fault's first errors joined it 10-13 minutes after its last sign and
#: were diagnosed, with the noise, as a crash of that platform (restarted while healthy).
UNEXPLAINED_S = 600.0


@dataclass(frozen=True)
class Topology:
    """Which platforms use which shared dependency; ``None`` means every platform uses it."""

    uses: Mapping[str, frozenset[str]] | None = None

    def related(self, first: Observation, second: Observation) -> bool:
        """Same component, two shared dependencies, or a platform and a dependency it uses."""
        if first.component == second.component:
            return True
        if first.dependency is None and second.dependency is None:
            return False  # two different platforms
        if first.dependency is not None and second.dependency is not None:
            return True  # shared infrastructure (a stuck cache loads the database)
        dependency, platform = (first, second) if first.dependency is not None else (second, first)
        if platform.metric not in DEPENDENCY_EFFECTS:
            return False  # disk, memory, jobs, logins: a platform's own business
        return self.uses_dependency(platform.component, dependency.component)

    def uses_dependency(self, platform: str, dependency: str) -> bool:
        """Whether ``platform`` depends on ``dependency``."""
        if self.uses is None or dependency not in self.uses:
            return True
        return platform in self.uses[dependency]


def symptom_of(observation: Observation) -> str:
    """The symptom an observation shows: its metric's family (the latency percentiles and the
    probe's latency are one, a 5xx ratio and a 5xx rate are one), else its metric."""
    if observation.metric == PROBE_LATENCY_MS:
        return "latency"
    status_class = observation.label_map.get("status_class")
    family = signal_family(Signal(observation.metric, 0.0, status_class=status_class))
    return family or observation.metric


@dataclass
class RelationIndex:
    """What :meth:`Topology.related` needs to know of a whole incident, kept as it grows."""

    components: set[str] = field(default_factory=set)
    dependencies: set[str] = field(default_factory=set)
    """Components seen through a dependency's series."""
    symptomatic: set[str] = field(default_factory=set)
    """Platforms seen through a request symptom (:data:`DEPENDENCY_EFFECTS`)."""
    symptoms: set[str] = field(default_factory=set)
    """Symptoms seen (:func:`symptom_of`), on any component."""

    def add(self, observation: Observation) -> None:
        """Index one more observation."""
        self.components.add(observation.component)
        self.symptoms.add(symptom_of(observation))
        if observation.dependency is not None:
            self.dependencies.add(observation.component)
        elif observation.metric in DEPENDENCY_EFFECTS:
            self.symptomatic.add(observation.component)

    def relates(self, observation: Observation, topology: Topology) -> bool:
        """Whether ``observation`` relates to any observation indexed (as ``related`` says)."""
        component = observation.component
        if component in self.components:
            return True
        if observation.dependency is not None:
            if self.dependencies:
                return True  # shared infrastructure
            return any(
                topology.uses_dependency(platform, component) for platform in self.symptomatic
            )
        if observation.metric not in DEPENDENCY_EFFECTS:
            return False
        return any(topology.uses_dependency(component, dep) for dep in self.dependencies)


@dataclass
class OpenIncident:
    """A group of related observations (mutable while the incident is open).

    ``examined_at``: when the Diagnostic agent last looked at it; ``diagnosed_at``: when a
    diagnosis of it was last published (``None`` while nothing has explained it: an incident
    of unexplained anomalies is still undiagnosed, so it merges with and waits like a new one);
    ``verifying``: a repair of it has run and its outcome is awaited; ``acted_on``: the
    components its repairs acted on; ``expected``: the symptoms its diagnosed cause produces
    (:meth:`explained_by`; see the module doc).
    """

    incident_id: str
    correlation_id: str
    opened_at: datetime
    last_seen: datetime
    observations: list[Observation] = field(default_factory=list)
    diagnosed_at: datetime | None = None
    examined_at: datetime | None = None
    held: bool = False
    verifying: bool = False
    acted_on: set[str] = field(default_factory=set)
    expected: frozenset[str] = frozenset()
    index: RelationIndex = field(default_factory=RelationIndex, repr=False, compare=False)

    def __post_init__(self) -> None:
        for observation in self.observations:  # built with observations already (tests, merges)
            self.index.add(observation)

    @property
    def components(self) -> set[str]:
        """Every component with at least one observation."""
        return set(self.index.components)

    def add(self, observation: Observation) -> None:
        """One more observation (times may arrive slightly out of order)."""
        self.observations.append(observation)
        self.index.add(observation)
        if observation.ts > self.last_seen:
            self.last_seen = observation.ts

    def explained_by(self, cause: str | None) -> None:
        """Note the cause its latest diagnosis names: the symptoms that cause produces are its
        fault's while a repair is verified, even those it had not shown yet."""
        self.expected = produced_families(cause)

    def takes(self, observation: Observation) -> bool:
        """Whether a related ``observation`` may join: always, unless the incident holds only
        its platform's own signs and their causes do not produce this request symptom, or a
        repair is being verified and neither it nor the fault explains the sign (see the module
        doc)."""
        if observation.dependency is not None:
            return True
        if not self.verifying:
            return self._own_signs_allow(observation)
        symptom = symptom_of(observation)
        return (
            symptom in self.index.symptoms
            or symptom in self.expected
            or observation.component in self.acted_on
        )

    def _own_signs_allow(self, observation: Observation) -> bool:
        """Whether a request symptom may join an incident of a platform's own signs only (its
        disk, memory, jobs): when those signs point at no known cause, or one of the causes
        they point at produces the symptom."""
        index = self.index
        if index.symptomatic or index.dependencies or observation.metric not in DEPENDENCY_EFFECTS:
            return True
        produced = produced_by_primaries(frozenset(index.symptoms))
        return produced is None or symptom_of(observation) in produced


class IncidentGrouper:
    """Keeps the open incidents and assigns each observation to one (see module doc)."""

    def __init__(
        self,
        topology: Topology,
        window_s: float = 900.0,
        quiet_s: float = 1800.0,
        unexplained_s: float = UNEXPLAINED_S,
    ) -> None:
        self.topology = topology
        self.window = timedelta(seconds=window_s)
        self.unexplained = timedelta(seconds=min(unexplained_s, window_s))
        self.quiet = timedelta(seconds=quiet_s)
        self.open: dict[str, OpenIncident] = {}
        # open incident ids by component, and those holding a dependency / a request symptom
        self._by_component: dict[str, set[str]] = {}
        self._with_dependency: set[str] = set()
        self._with_symptom: set[str] = set()
        self._rank: dict[str, int] = {}  # opening order: candidates are tried in it
        self._rekeyed: set[str] = set()  # open incidents that took published ids (rekey)

    def add(self, observation: Observation) -> OpenIncident:
        """Join ``observation`` to its incident, opening one if none relates.

        When it relates to several open incidents (a database anomaly arriving after two
        platforms' latency anomalies), the ones not yet diagnosed merge into the oldest."""
        earliest = observation.ts - self.window
        earliest_unexplained = observation.ts - self.unexplained
        candidates = [
            incident
            for incident_id in self._possible(observation)
            if (incident := self.open.get(incident_id)) is not None
            and incident.last_seen
            >= (earliest if incident.diagnosed_at is not None else earliest_unexplained)
            and incident.index.relates(observation, self.topology)
            and incident.takes(observation)
        ]
        if not candidates:
            incident = OpenIncident(new_id(), new_id(), observation.ts, observation.ts)
            self.open[incident.incident_id] = incident
            self._rank[incident.incident_id] = len(self._rank)
        else:
            incident = self._join(candidates)
        self._add_to(incident, observation)
        return incident

    def _possible(self, observation: Observation) -> list[str]:
        """Open incidents ``observation`` may relate to (a superset), in opening order."""
        possible = set(self._by_component.get(observation.component, ()))
        if observation.dependency is not None:
            possible |= self._with_dependency | self._with_symptom
        elif observation.metric in DEPENDENCY_EFFECTS:
            possible |= self._with_dependency
        if len(possible) <= 1:
            return list(possible)
        rank = self._rank
        if all(incident_id in rank for incident_id in possible):
            return sorted(possible, key=rank.__getitem__)
        return [incident_id for incident_id in self.open if incident_id in possible]

    def _add_to(self, incident: OpenIncident, observation: Observation) -> None:
        incident.add(observation)
        self._index(incident.incident_id, observation)

    def _index(self, incident_id: str, observation: Observation) -> None:
        self._by_component.setdefault(observation.component, set()).add(incident_id)
        if observation.dependency is not None:
            self._with_dependency.add(incident_id)
        elif observation.metric in DEPENDENCY_EFFECTS:
            self._with_symptom.add(incident_id)

    def _unindex(self, incident: OpenIncident) -> None:
        incident_id = incident.incident_id
        for component in incident.index.components:
            holders = self._by_component.get(component)
            if holders is not None:
                holders.discard(incident_id)
                if not holders:
                    del self._by_component[component]
        self._with_dependency.discard(incident_id)
        self._with_symptom.discard(incident_id)
        self._rank.pop(incident_id, None)
        self._rekeyed.discard(incident_id)

    def _join(self, candidates: list[OpenIncident]) -> OpenIncident:
        undiagnosed = [item for item in candidates if item.diagnosed_at is None]
        if len(undiagnosed) < 2:
            return max(candidates, key=lambda item: item.last_seen)
        return self.merge(undiagnosed)

    def merge(self, incidents: list[OpenIncident]) -> OpenIncident:
        """Merge ``incidents`` into the oldest of them (which keeps its ids); returns it. One
        that took a published incident's ids (:meth:`rekey`) is kept instead: those ids are
        already in the history (an attack's, whose next revision it is)."""
        ordered = sorted(incidents, key=lambda item: (item.incident_id not in self._rekeyed,
                                                      item.opened_at))  # fmt: skip
        keeper, *others = ordered
        for other in others:
            if self.open.pop(other.incident_id, None) is not None:
                self._unindex(other)
            for seen in other.observations:
                self._add_to(keeper, seen)
        return keeper

    def close_quiet(self, now: datetime) -> list[OpenIncident]:
        """Close (and return) the incidents quiet for ``quiet_s`` that nobody holds."""
        closed = [
            incident
            for incident in self.open.values()
            if not incident.held and incident.last_seen + self.quiet <= now
        ]
        for incident in closed:
            del self.open[incident.incident_id]
            self._unindex(incident)
        return closed

    def follow(
        self, event: IncidentStatusChanged | RepairExecuted | DisturbanceExpected, own: str
    ) -> bool:
        """Follow the repair of an incident; ``True`` when the event ends it. A resolved or
        recovered incident takes no new signs (an escalated one stays open: a later revision
        that names a strategy resumes its repair); one being verified takes fewer
        (:meth:`OpenIncident.takes`); a repair's announced side effect names the platforms it
        acted on. Status changes from ``own`` (an attack's ban) are not the Repair agent's."""
        if isinstance(event, DisturbanceExpected):
            self.acted_on(event.incident_id, event.platforms)
            return False
        if isinstance(event, IncidentStatusChanged) and not event.status.closed:
            if event.source != own:
                self.set_verifying(event.incident_id, event.status is IncidentStatus.VERIFYING)
            return False
        if isinstance(event, RepairExecuted) and event.outcome != "worked":
            return False
        self.close(event.incident_id)
        return True

    def set_verifying(self, incident_id: str, verifying: bool) -> None:
        """Say whether a repair of the incident has run and is being verified (it then takes
        only the signs :meth:`OpenIncident.takes` allows; a failed step's next one lifts that)."""
        incident = self.open.get(incident_id)
        if incident is not None:
            incident.verifying = verifying

    def acted_on(self, incident_id: str, components: Iterable[str]) -> None:
        """Note the components a repair of the incident acted on (a restarted platform)."""
        incident = self.open.get(incident_id)
        if incident is not None:
            incident.acted_on.update(components)

    def close(self, incident_id: str) -> OpenIncident | None:
        """Close an incident now (it resolved, recovered or was escalated): later
        observations open a new incident instead of joining it. Returns it if it was open."""
        incident = self.open.pop(incident_id, None)
        if incident is not None:
            self._unindex(incident)
        return incident

    def rekey(self, incident_id: str, new_id: str, correlation_id: str) -> OpenIncident | None:
        """Give an open incident the ids of one already published for the same trouble (an
        attack's: ``diagnosis/attack_merge.py``); returns it if it was open."""
        incident = self.open.pop(incident_id, None)
        if incident is None:
            return None
        self._unindex(incident)
        incident.incident_id, incident.correlation_id = new_id, correlation_id
        self.open[new_id] = incident
        self._rekeyed.add(new_id)
        self._rank[new_id] = len(self._rank)
        for observation in incident.observations:
            self._index(new_id, observation)
        return incident

    def get(self, incident_id: str) -> OpenIncident | None:
        """The open incident with this id, if it is still open."""
        return self.open.get(incident_id)
