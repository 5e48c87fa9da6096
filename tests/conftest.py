"""Shared fixtures: a clean environment for settings, a SimClock, a temporary DuckDB file, and
native thread pools of one thread.

Why one thread: the tests fit small models (scikit-learn's histogram gradient boosting, BLAS on
small matrices) on two cores shared with the servers the tests start. OpenMP and OpenBLAS
workers then spin waiting for each other: ``test_random_data[hist_gradient_boosting]`` took
44.7 s in the default suite with default threads (load about 10), 1.9 s with one (alone, load
about 12; docs/benchmarks.md, "CI: test-suite wall time"). The service already
fits in one thread (``threadpool_limits`` in training and forecasting); the tests that fit
directly now do too. ``OMP_NUM_THREADS`` is set before scikit-learn loads its OpenMP runtime
(and is inherited by the processes the tests start); ``threadpool_limits`` covers the BLAS that
NumPy loaded already.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from selfheal_ml.clock import SimClock
from selfheal_ml.config import ENVIRONMENT_PATHS


@pytest.fixture(autouse=True, scope="session")
def _one_native_thread() -> Iterator[None]:
    """OpenMP and BLAS pools of one thread for the whole session (see the module docstring)."""
    with threadpool_limits(limits=1):
        yield


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
