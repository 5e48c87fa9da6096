"""Agent processes: which agents a process runs, partitions, and a runtime that reports agents
heard from over the bus."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal_ml.agent_process import (
    build_agent_runtime,
    parse_agents,
    parse_partition,
    with_agents,
)
from selfheal_ml.agents.checkpointed_scoring import PartitionFilter
from selfheal_ml.config import AGENT_NAMES, Settings
from selfheal_ml.errors import ConfigError
from selfheal_ml.events import AgentHeartbeat
from selfheal_ml.runtime import build_runtime


def test_agent_lists_read_any_case_in_start_order() -> None:
    assert parse_agents("all") == AGENT_NAMES
    assert parse_agents("none") == ()
    assert parse_agents("repair,MONITOR") == ("Monitor", "Repair")
    with pytest.raises(ConfigError, match="Oracle"):
        parse_agents("Monitor,Oracle")


def test_with_agents_enables_exactly_those_and_keeps_their_settings() -> None:
    settings = Settings().model_copy(update={"enable_self_healing": True})
    chosen = with_agents(settings, ("Diagnostic",))
    assert [name for name in AGENT_NAMES if chosen.agent_enabled(name)] == ["Diagnostic"]
    assert chosen.agents.diagnostic.settle_s == settings.agents.diagnostic.settle_s


def test_partitions_are_k_of_n() -> None:
    assert parse_partition("0/3") == PartitionFilter(0, 3)
    for bad in ("3/3", "x", "1/0", "-1/2"):
        with pytest.raises(ConfigError, match="--partition"):
            parse_partition(bad)


def test_an_agent_process_needs_a_shared_bus(tmp_path: Path) -> None:
    settings = Settings(db_path=str(tmp_path / "a.duckdb"))
    with pytest.raises(ConfigError, match="--bus"):
        build_agent_runtime(settings, ("Diagnostic",))


async def test_the_api_reports_agents_heard_over_the_bus(tmp_path: Path) -> None:
    settings = with_agents(
        Settings(db_path=str(tmp_path / "api.duckdb"), bus="redis://127.0.0.1:1/0"), ()
    )
    runtime = build_runtime(settings)  # built, never started: no connection is made
    assert runtime.agent_board is not None
    assert not runtime.agent_statuses()["Repair"].enabled
    beat = AgentHeartbeat(
        ts=runtime.clock.now(), source="t", agent="Repair", process="h-1", running=True
    )
    await runtime.agent_board.record(beat)
    status = runtime.agent_statuses()["Repair"]
    assert status.enabled and status.running
    assert runtime.dashboard()["agents"]["Repair"] == {"running": True, "enabled": True}
    runtime.database.close()
