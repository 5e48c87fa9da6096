"""A repair's own side effect, on the path the service runs (the simulator's exposition through
the Monitor's collectors, the Predictive agent's detectors, the demo's alert log).

A restore from backup (``restore_from_backup``) takes the shared database away from every
platform for 60 s in the simulator, as it would on a real site. Announced the way the Repair
agent announces it (:func:`~selfheal_ml.repair.side_effects.announcement`), the alerts and
anomalies it causes are inhibited and none counts as a sign of trouble; the same action
unannounced fires server-error alerts on the platforms, which shows the effect is visible at
all (the control). (Dropping the connections, 2 % of requests for 15 s, shows at the day's
peak only: a run to 15:00 would take minutes.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from selfheal_ml.config import load_settings
from selfheal_ml.demo import DEMO_START, DemoOptions, build_simulation
from selfheal_ml.events import AlertRaised, AnomalyDetected, Event, Tick
from selfheal_ml.repair.side_effects import announcement, expected_disturbance
from selfheal_ml.sim import FaultSchedule

pytestmark = pytest.mark.integration

INTERVAL_S = 30.0
ACT_AT = DEMO_START + timedelta(hours=1)
STRATEGY = "restore_from_backup"
FRESH_S = 2.5 * INTERVAL_S  # the Repair agent's fresh_s at this interval (ports.loop_timing)


async def _run(tmp_path: Path, announce: bool) -> tuple[list[Event], list[str]]:
    """A fault-free hour and a half with :data:`STRATEGY` run at :data:`ACT_AT`; the
    alerts and anomalies seen after it, and the names of the signs counted against faults."""
    options = DemoOptions(
        days=1.5 / 24, seed=23, db_path=str(tmp_path / f"side-{announce}.duckdb"),
        progress=False, warmup_days=1.0, check_interval_s=INTERVAL_S,
    )  # fmt: skip
    simulation = await build_simulation(load_settings(), options, FaultSchedule(faults=()))
    bus = simulation.runtime.bus
    acted: list[datetime] = []
    seen: list[Event] = []

    async def act(tick: Event) -> None:
        assert isinstance(tick, Tick)
        if tick.kind != "health" or acted or tick.ts < ACT_AT:
            return
        acted.append(tick.ts)
        simulation.simulator.apply_action("leadsite.ai", STRATEGY)
        if announce:
            disturbance = expected_disturbance(STRATEGY, "i-test", "postgres", tick.ts, FRESH_S)
            assert disturbance is not None
            await bus.publish(announcement(disturbance, "Repair"))

    async def record(event: Event) -> None:
        if acted and event.ts > acted[0]:
            seen.append(event)

    bus.subscribe(Tick, act, name="TestRepairer")
    bus.subscribe(AlertRaised, record, name="TestAlerts")
    bus.subscribe(AnomalyDetected, record, name="TestAnomalies")
    await simulation.run(options.days)
    await simulation.runtime.stop()
    assert acted, "the action never ran"
    window_end = acted[0] + timedelta(seconds=60 + FRESH_S)
    counted = [
        observation.alertname
        for observation in simulation.alerts.observations
        if acted[0] < observation.ts <= window_end
    ]
    return seen, counted


def _server_errors(events: list[Event]) -> list[AlertRaised]:
    return [e for e in events if isinstance(e, AlertRaised) and e.firing
            and e.alertname in ("ServerErrors", "HighErrorRate")]  # fmt: skip


async def test_the_side_effect_of_an_announced_repair_pages_nobody(tmp_path: Path) -> None:
    unannounced, counted_without = await _run(tmp_path, announce=False)
    fired = _server_errors(unannounced)
    assert len({e.labels.get("platform") for e in fired}) >= 3, "the control saw no side effect"
    assert all(not e.inhibited_by for e in fired) and counted_without

    announced, counted_with = await _run(tmp_path, announce=True)
    inhibited = _server_errors(announced)
    platforms = {e.labels.get("platform") for e in fired}
    assert {e.labels.get("platform") for e in inhibited} == platforms
    assert all(STRATEGY in e.inhibited_by for e in inhibited)
    assert counted_with == []  # nothing in the window counts as a sign of trouble
