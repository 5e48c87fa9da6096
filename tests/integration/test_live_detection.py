"""Live detection through the service's own path: warmed from history, silent until a fault,
then the database outage on the latency and error series (issue 15).

The same collectors, agents, stores and detector bank as ``serve`` (ARCHITECTURE: one path; only
the clock and the transport differ), in virtual time: half a day of fault-free history is recorded
through the Monitor's collectors into DuckDB, the Predictive agent re-warms its bank from it at
start-up (:class:`~selfheal_ml.agents.bank_warmup.BankWarmup`), then the README's fault
(``db_unreachable`` on leadsite.ai's database) is injected. Checked:

- every series the Monitor collects reaches the detector bank;
- the warm-up raises nothing: no anomaly before the fault;
- within two collection intervals of the injection, latency and error series of affected
  platforms carry anomalies in the anomaly store (what ``GET /v1/anomalies`` lists), each with
  its explanation (expected range, component, text).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from selfheal_ml.agents.predictive import PredictiveAgent
from selfheal_ml.config import load_settings
from selfheal_ml.demo import DEMO_START, DemoOptions, build_simulation
from selfheal_ml.events import AnomalyDetected
from selfheal_ml.sim import FaultKind, FaultSchedule, ScheduledFault
from tests.integration.conftest import AnomalyLog

pytestmark = pytest.mark.integration

INTERVAL_S = 30.0
FAULT_AT_S = 600.0


async def test_database_outage_shows_on_latency_and_errors_within_two_intervals(
    tmp_path: Path, seen: AnomalyLog
) -> None:
    schedule = FaultSchedule(
        faults=(ScheduledFault(FAULT_AT_S, FaultKind.DB_UNREACHABLE, "leadsite.ai", 1.0, 900.0),)
    )
    options = DemoOptions(
        days=(FAULT_AT_S + 4 * INTERVAL_S) / 86_400.0,
        seed=21,
        db_path=str(tmp_path / "live.duckdb"),
        progress=False,
        warmup_days=0.5,
        check_interval_s=INTERVAL_S,
    )
    simulation = await build_simulation(load_settings(), options, schedule)
    simulation.runtime.bus.subscribe(AnomalyDetected, seen.record, name="test")
    await simulation.run(options.days)
    runtime = simulation.runtime
    predictive = runtime.agents["Predictive"].agent
    assert isinstance(predictive, PredictiveAgent)
    collected = set(runtime.metrics.catalogue()["series"])
    scored = set(predictive.bank.series())
    await runtime.stop()

    assert collected and collected <= scored, sorted(collected - scored)[:10]
    injected = DEMO_START + timedelta(seconds=FAULT_AT_S)
    before = [event.series for event in seen.events if event.ts < injected]
    assert not before, f"anomalies before the fault (warm-up must not fire): {before}"
    early = [
        event
        for event in seen.events
        if injected <= event.ts <= injected + timedelta(seconds=2 * INTERVAL_S)
    ]
    latency = [e for e in early if e.series.startswith(("http_latency", "db_query_duration"))]
    errors = [e for e in early if e.series.startswith("http_error")]
    print(f"\nwithin two intervals: {sorted({e.series for e in early})}")
    assert latency, "no latency anomaly within two intervals of the outage"
    assert errors, "no error anomaly within two intervals of the outage"
    for event in latency + errors:
        assert event.detector and event.explanation
        assert event.expected_low <= event.expected_high
