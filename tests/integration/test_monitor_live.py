"""The Monitor against real things: the live simulator over HTTP, PostgreSQL and Redis.

Scenario 1 of the original design: the database connection is lost. With the live simulator
running and a short health-check interval, a critical alert must fire within one check
interval and auto-resolve after the fault is lifted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfheal_ml.clock import RealClock
from selfheal_ml.config import load_settings
from selfheal_ml.events import Tick
from selfheal_ml.runtime import start_agents
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.server import create_sim_app

pytestmark = pytest.mark.integration

INTERVAL_S = 1.0
FAULT_S = 4.0


@pytest.fixture
def live_simulator(serve_app: Callable[[Any], AbstractContextManager[str]]) -> Iterator[str]:
    clock = RealClock()
    app = create_sim_app(PlatformSimulator(seed=3, start=clock.now()), clock)
    with serve_app(app) as base_url:
        yield base_url


async def _wait_for(condition, timeout_s: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def _db_alerts(runtime, status: str) -> list:  # type: ignore[no-untyped-def]
    return [
        alert
        for alert in runtime.alerts.alerts(status, 100)
        if alert.labels.get("alertname") == "DatabaseConnectionFailure"
    ]


async def test_scenario_1_database_connection_lost(
    live_simulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "live.duckdb"))
    monkeypatch.setenv("SELFHEAL_HEALTH_CHECK_INTERVAL_S", str(INTERVAL_S))
    settings = load_settings().model_copy(update={"simulator_url": live_simulator})
    runtime = await start_agents(settings, clock=RealClock())
    try:
        await _wait_for(lambda: runtime.health.overall() == "healthy", timeout_s=10)
        assert _db_alerts(runtime, "firing") == []
        async with httpx.AsyncClient(base_url=live_simulator) as client:
            injected_at = runtime.clock.now()
            response = await client.post(
                "/sim/faults",
                json={"platform": "leadsite.ai", "kind": "db_unreachable", "duration_s": FAULT_S},
            )
            assert response.status_code == 201, response.text
            await _wait_for(lambda: bool(_db_alerts(runtime, "firing")), timeout_s=10)
            alert = _db_alerts(runtime, "firing")[0]
            assert alert.severity == "critical"
            # the check that saw it started within one interval of the injection (the alert's
            # startsAt is that check's time; processing after it is not detection delay)
            detection_delay_s = (alert.starts_at - injected_at).total_seconds()
            assert detection_delay_s <= INTERVAL_S, detection_delay_s
        # the fault is lifted after FAULT_S (its duration; restore_from_backup would add a
        # 60 s outage of its own): the alert must resolve by itself
        await _wait_for(lambda: not _db_alerts(runtime, "firing"), timeout_s=FAULT_S + 10)
        assert _db_alerts(runtime, "resolved")
        assert runtime.alerts.counts().auto_resolved >= 1
    finally:
        await runtime.stop()


async def test_monitor_collects_real_postgres_and_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, redis_url: str
) -> None:
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "real.duckdb"))
    runtime = await start_agents(
        load_settings(), db=postgres_dsn, redis=redis_url, clock=RealClock(), run_scheduler=False
    )
    try:
        await runtime.bus.publish(Tick(ts=runtime.clock.now(), source="test", kind="health"))
        await runtime.bus.drain()
        store = runtime.metrics
        db_up = store.latest('db_up{target="database"}')
        cache_up = store.latest('cache_up{target="cache"}')
        assert db_up is not None and db_up[1] == 1.0
        assert cache_up is not None and cache_up[1] == 1.0
        assert store.latest_all("db_connections")  # pg_stat_activity was read
    finally:
        await runtime.stop()
