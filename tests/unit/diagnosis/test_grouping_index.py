"""The indexed grouper groups exactly as comparing every pair of observations did (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal_ml.diagnosis.grouping import IncidentGrouper, OpenIncident, Topology
from selfheal_ml.diagnosis.observations import Observation
from selfheal_ml.events import new_id

T0 = datetime(2026, 1, 5, tzinfo=UTC)
METRICS = ["http_latency_p95_ms", "http_error_ratio", "host_disk_percent", "db_up", "redis_up"]
COMPONENTS = ["shop", "blog", "api", "postgres", "redis"]


class PairwiseGrouper(IncidentGrouper):
    """The grouper before the index: each observation against every open observation."""

    def add(self, observation: Observation) -> OpenIncident:
        candidates = [
            incident
            for incident in self.open.values()
            if incident.last_seen
            >= observation.ts - (self.window if incident.diagnosed_at else self.unexplained)
            and any(self.topology.related(observation, seen) for seen in incident.observations)
            and incident.takes(observation)  # which signs an incident takes: not the index's
        ]
        if not candidates:
            incident = OpenIncident(new_id(), new_id(), observation.ts, observation.ts)
            self.open[incident.incident_id] = incident
            self._rank[incident.incident_id] = len(self._rank)
        else:
            incident = self._join(candidates)
        self._add_to(incident, observation)
        return incident


observation_strategy = st.builds(
    lambda minute, metric, component, labelled: Observation(
        T0 + timedelta(minutes=minute),
        metric,
        metric,
        component,
        9.0,
        "anomaly",
        (("dependency", component),) if labelled else (),
    ),
    st.integers(0, 90),
    st.sampled_from(METRICS),
    st.sampled_from(COMPONENTS),
    st.booleans(),
)
topology_strategy = st.sampled_from(
    [
        Topology(),
        Topology({"postgres": frozenset({"shop"}), "redis": frozenset({"blog", "api"})}),
    ]
)


def _partition(grouper: IncidentGrouper, steps: list[tuple[Observation, bool]]) -> list[object]:
    trace: list[object] = []
    for observation, diagnose in steps:
        incident = grouper.add(observation)
        if diagnose:
            incident.diagnosed_at = observation.ts
        trace.append(sorted(len(item.observations) for item in grouper.open.values()))
        if observation.ts.minute % 17 == 0:
            trace.append(len(grouper.close_quiet(observation.ts + timedelta(minutes=20))))
    return trace


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(observation_strategy, st.booleans()), max_size=60), topology_strategy)
def test_index_groups_like_the_pairwise_comparison(
    steps: list[tuple[Observation, bool]], topology: Topology
) -> None:
    steps.sort(key=lambda step: step[0].ts)
    indexed = IncidentGrouper(topology, window_s=900.0, quiet_s=600.0)
    pairwise = PairwiseGrouper(topology, window_s=900.0, quiet_s=600.0)
    assert _partition(indexed, steps) == _partition(pairwise, steps)
    for incident in indexed.open.values():
        assert incident.components == {seen.component for seen in incident.observations}
