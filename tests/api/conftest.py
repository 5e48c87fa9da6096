"""The API under test: a real app over a real runtime (SimClock, DuckDB file in tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(
    db_path: Path, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A started app whose admin token is ``TOKEN``; the scheduler does not run."""
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("SELFHEAL_DB", str(db_path))
    # never the repository's own mlruns/: a champion left there by a pipeline run is not ours
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db_path.parent / 'mlflow.db'}")
    app = create_app(load_settings(), clock=sim_clock, run_scheduler=False)
    with TestClient(app) as test_client:
        yield test_client
