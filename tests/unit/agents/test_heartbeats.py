"""Heartbeats: an agent process's beats carry its supervisors' status; the API's board reports
an agent running while a beat is fresh, sums its processes, forgets nobody."""

from __future__ import annotations

from selfheal_ml.agents.base import Agent, AgentContext
from selfheal_ml.agents.heartbeats import AgentBoard, heartbeats
from selfheal_ml.agents.supervisor import SupervisedAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import AgentHeartbeat, Event


class Idle(Agent):
    name = "Diagnostic"

    async def handle(self, event: Event) -> list[Event]:
        return []


def beat(
    clock: SimClock, process: str, *, running: bool = True, handled: int = 0
) -> AgentHeartbeat:
    return AgentHeartbeat(
        ts=clock.now(), source="t", agent="Diagnostic", process=process, running=running,
        handled=handled,
    )  # fmt: skip


def test_beats_carry_the_supervisors_status(sim_clock: SimClock) -> None:
    bus = InMemoryEventBus()
    supervised = SupervisedAgent(Idle(AgentContext(bus=bus, clock=sim_clock)), bus)
    supervised.status.running, supervised.status.handled = True, 7
    [only] = heartbeats({"Diagnostic": supervised}, "host-1", sim_clock.now())
    assert (only.agent, only.process, only.running, only.handled) == (
        "Diagnostic",
        "host-1",
        True,
        7,
    )


async def test_board_reports_running_while_a_beat_is_fresh(sim_clock: SimClock) -> None:
    board = AgentBoard(sim_clock, stale_after_s=6.0)
    assert board.status("Diagnostic") is None
    await board.record(beat(sim_clock, "host-1", handled=3))
    status = board.status("Diagnostic")
    assert status is not None and status.running and status.enabled and status.handled == 3
    sim_clock.advance(7.0)
    stale = board.status("Diagnostic")
    assert stale is not None and stale.enabled and not stale.running
    assert board.processes("Diagnostic") == []


async def test_board_sums_the_processes_of_one_agent(sim_clock: SimClock) -> None:
    board = AgentBoard(sim_clock)
    await board.record(beat(sim_clock, "host-1", handled=3))
    await board.record(beat(sim_clock, "host-2", running=False, handled=4))
    await board.record(beat(sim_clock, "host-1", handled=5))  # a newer beat replaces the older
    status = board.status("Diagnostic")
    assert status is not None and status.running and status.handled == 9
    assert board.processes("Diagnostic") == ["host-1", "host-2"]
