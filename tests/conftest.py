"""Shared fixtures: a clean environment for settings, a SimClock, a temporary DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfheal_ml.clock import SimClock
from selfheal_ml.config import ENVIRONMENT_PATHS


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's own SELFHEAL_*/AGENT_* variables."""
    for variable in ENVIRONMENT_PATHS:
        monkeypatch.delenv(variable, raising=False)
    yield


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock(datetime(2026, 1, 5, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "selfheal.duckdb"
