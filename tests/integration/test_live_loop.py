"""The closed loop the way users run it: ``sim serve`` + ``serve --dev`` as real processes.

Four scenarios, each in its own stack (simulator + service, free ports, a temporary DuckDB
file and MLflow store, a loop timed in seconds: :data:`selfheal_ml.live.stack.LIVE_TIMING`),
started together so that the whole module takes one scenario's time (about 4 min at most):

- Scenario 1 of the seed, a lost database connection (``db_unreachable`` on leadsite.ai):
  one incident on all five platforms, root cause ``db_unreachable``, a repair among the
  simulator's fixing actions, resolved within 120 s of the injection;
- Scenario 2 of the seed, a slow API from a missing index (``slow_query`` on leadsite.io);
- a crashed service (``service_crash`` on tackle.io);
- a bad configuration push (``bad_config_push`` on videosite.io), told from a crash by the
  simulator's change feed, which ``serve`` polls: rolled back, not restarted.

Each fault is injected through ``POST /sim/faults``; the assertions read the stored incident
through ``GET /v1/incidents`` and ``GET /v1/incidents/{id}`` and the simulator's ground truth
through ``GET /sim/faults``. Incident fields are read in one place (:func:`view`), so a change
of the record's shape is a change there. A failing test prints the incident JSON and the end
of both servers' logs. A stack that cannot start skips its scenario with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from selfheal_ml.live.client import LiveClient
from selfheal_ml.live.stack import LiveStack, StackError

pytestmark = pytest.mark.integration

ALL_PLATFORMS = {"leadsite.ai", "leadsite.io", "clientcontact.io", "videosite.io", "tackle.io"}
TERMINAL = {"resolved", "recovered", "escalated"}
BASELINE_S = 6.0  # healthy checks before the fault, so the first alert is the fault's
POLL_S = 2.0
SLACK_S = 15.0  # polling goes on this long past a scenario's bound, to show what came after


@dataclass(frozen=True)
class Scenario:
    """A fault to inject and the bound (seconds from injection) on its resolution."""

    name: str
    kind: str
    platform: str
    resolve_within_s: float
    approve: bool = False  # a person on call approves high-risk repairs (the seed's Scenario 2)


SCENARIOS = (
    Scenario("db_connection_lost", "db_unreachable", "leadsite.ai", 120.0),
    Scenario("slow_query_missing_index", "slow_query", "leadsite.io", 180.0, approve=True),
    Scenario("service_crash", "service_crash", "tackle.io", 120.0),
    Scenario("bad_config_push", "bad_config_push", "videosite.io", 120.0),
)


@dataclass(frozen=True)
class IncidentView:
    """The fields the assertions use, whatever the record's shape."""

    incident_id: str
    status: str
    root_cause: str | None
    platforms: frozenset[str]
    strategies: tuple[str, ...]


def view(incident: dict[str, Any]) -> IncidentView:
    """Read an incident record: the typed ``diagnosis`` when present, else the flat fields."""
    diagnosis = incident.get("diagnosis") or {}
    return IncidentView(
        incident_id=str(incident["incident_id"]),
        status=str(incident["status"]),
        root_cause=diagnosis.get("root_cause", incident.get("root_cause")),
        platforms=frozenset(diagnosis.get("platforms") or incident.get("platforms") or ()),
        strategies=tuple(str(a["strategy"]) for a in incident.get("attempts", [])),
    )


@dataclass
class Outcome:
    """What one scenario's stack did: the ground truth and the incidents, as last polled."""

    scenario: Scenario
    stack: LiveStack
    fault_id: str = ""
    injected_monotonic: float = 0.0
    fault: dict[str, Any] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    def incident(self) -> dict[str, Any] | None:
        """The incident naming the fault kind, else the earliest one (the API: newest first)."""
        for incident in reversed(self.incidents):
            if (view(incident).root_cause or "").startswith(self.scenario.kind):
                return incident
        return self.incidents[-1] if self.incidents else None

    def settled(self) -> bool:
        """The fault ended and its incident reached a final state, or it escalated."""
        incident = self.incident()
        status = view(incident).status if incident else None
        return status == "escalated" or (status in TERMINAL and not self.fault.get("active"))

    def report(self) -> str:
        """The incident JSON, the ground truth and the logs: what a failure prints."""
        return (
            f"scenario {self.scenario.name}: fault {json.dumps(self.fault, indent=1)}\n"
            f"incidents {json.dumps(self.incidents, indent=1)}\n{self.stack.logs()}"
        )


def _poll(outcome: Outcome, client: LiveClient) -> None:
    outcome.fault = client.fault(outcome.fault_id)
    outcome.incidents = client.incidents()
    if outcome.scenario.approve:
        for entry in client.pending():
            client.approve(str(entry["id"]), by="on-call (test)")


def _run_all(outcomes: list[Outcome], clients: dict[str, LiveClient]) -> None:
    """Inject every scenario's fault, then poll all stacks until settled or past the bound."""
    time.sleep(BASELINE_S)
    for outcome in outcomes:
        client = clients[outcome.scenario.name]
        outcome.fault_id = client.inject(outcome.scenario.kind, outcome.scenario.platform)
        outcome.injected_monotonic = time.monotonic()
    waiting = list(outcomes)
    while waiting:
        time.sleep(POLL_S)
        for outcome in list(waiting):
            _poll(outcome, clients[outcome.scenario.name])
            elapsed_s = time.monotonic() - outcome.injected_monotonic
            if outcome.settled() or elapsed_s > outcome.scenario.resolve_within_s + SLACK_S:
                waiting.remove(outcome)


def _start(stacks: list[LiveStack]) -> list[str | None]:
    """Launch every stack at once, then wait for each; a skip reason per stack or None."""
    for stack in stacks:
        stack.launch()
    reasons: list[str | None] = []
    for stack in stacks:
        try:
            stack.wait_ready()
            reasons.append(None)
        except StackError as error:
            stack.stop()
            reasons.append(f"live stack did not start: {error}\n{error.log[-1500:]}")
    return reasons


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every scenario run on its own stack; the stacks are always stopped afterwards."""
    with ExitStack() as cleanup:
        results = []
        for scenario in SCENARIOS:
            stack = LiveStack(tmp_path_factory.mktemp(scenario.name))
            cleanup.callback(stack.stop)
            results.append(Outcome(scenario, stack))
        for outcome, reason in zip(results, _start([o.stack for o in results]), strict=True):
            outcome.skipped = reason
        running = [outcome for outcome in results if outcome.skipped is None]
        clients = {}
        for outcome in running:
            stack = outcome.stack
            assert stack.sim is not None and stack.service is not None
            client = cleanup.enter_context(LiveClient(stack.sim.url, stack.service.url))
            clients[outcome.scenario.name] = client
        _run_all(running, clients)
        yield {outcome.scenario.name: outcome for outcome in results}


def _checked(outcomes: dict[str, Outcome], name: str) -> tuple[Outcome, IncidentView]:
    outcome = outcomes[name]
    if outcome.skipped is not None:
        pytest.skip(outcome.skipped)
    incident = outcome.incident()
    if incident is None:
        print(outcome.report())
        pytest.fail(f"{name}: no incident was recorded for fault {outcome.fault_id}")
    return outcome, view(incident)


def _resolved_in_s(fault: dict[str, Any]) -> float | None:
    """Seconds from injection to the simulator's resolution (its own clock), or None."""
    if not fault.get("resolved_at"):
        return None
    injected = datetime.fromisoformat(fault["injected_at"])
    return (datetime.fromisoformat(fault["resolved_at"]) - injected).total_seconds()


def _assert_loop(outcome: Outcome, incident: IncidentView) -> None:
    """Root cause, a fixing strategy tried, and resolved by it within the bound."""
    scenario, fault = outcome.scenario, outcome.fault
    assert (incident.root_cause or "").split("@")[0] == scenario.kind, incident.root_cause
    fixing = set(fault["fixing_actions"])
    assert fixing & set(incident.strategies), (incident.strategies, sorted(fixing))
    assert fault["resolved_by"] in fixing, fault["resolved_by"]
    taken_s = _resolved_in_s(fault)
    assert taken_s is not None and taken_s <= scenario.resolve_within_s, taken_s
    assert incident.status == "resolved", incident.status


def _run_checks(
    outcomes: dict[str, Outcome], name: str, checks: Callable[[Outcome, IncidentView], None]
) -> None:
    """Run a scenario's assertions; on a failure print its incident JSON and logs."""
    outcome, incident = _checked(outcomes, name)
    try:
        checks(outcome, incident)
    except AssertionError:
        print(outcome.report())
        raise


def test_scenario_1_database_connection_lost(outcomes: dict[str, Outcome]) -> None:
    def checks(outcome: Outcome, incident: IncidentView) -> None:
        assert incident.platforms == ALL_PLATFORMS, sorted(incident.platforms)
        assert set(outcome.fault["platforms"]) == ALL_PLATFORMS
        _assert_loop(outcome, incident)

    _run_checks(outcomes, "db_connection_lost", checks)


def test_scenario_2_slow_query_from_a_missing_index(outcomes: dict[str, Outcome]) -> None:
    def checks(outcome: Outcome, incident: IncidentView) -> None:
        assert outcome.scenario.platform in incident.platforms, sorted(incident.platforms)
        assert incident.platforms <= set(outcome.fault["platforms"]), sorted(incident.platforms)
        _assert_loop(outcome, incident)

    _run_checks(outcomes, "slow_query_missing_index", checks)


def test_service_crash(outcomes: dict[str, Outcome]) -> None:
    def checks(outcome: Outcome, incident: IncidentView) -> None:
        assert incident.platforms == {outcome.scenario.platform}, sorted(incident.platforms)
        _assert_loop(outcome, incident)

    _run_checks(outcomes, "service_crash", checks)


def test_bad_config_push(outcomes: dict[str, Outcome]) -> None:
    """Told from a crash by the simulator's change feed (``serve`` polls it): rolled back."""

    def checks(outcome: Outcome, incident: IncidentView) -> None:
        assert incident.platforms == {outcome.scenario.platform}, sorted(incident.platforms)
        assert incident.strategies[:1] == ("rollback_config",), incident.strategies
        _assert_loop(outcome, incident)

    _run_checks(outcomes, "bad_config_push", checks)


def test_the_incident_reads_the_same_by_id(outcomes: dict[str, Outcome]) -> None:
    """``GET /v1/incidents/{id}`` answers the record the list holds (same shape, same facts)."""
    outcome, incident = _checked(outcomes, "db_connection_lost")
    stack = outcome.stack
    assert stack.sim is not None and stack.service is not None
    if stack.service.process.poll() is not None:
        pytest.fail(f"the service exited early\n{outcome.report()}")
    with LiveClient(stack.sim.url, stack.service.url) as client:
        by_id = view(client.incident(incident.incident_id))
    assert by_id.incident_id == incident.incident_id
    assert by_id.root_cause == incident.root_cause and by_id.platforms == incident.platforms
