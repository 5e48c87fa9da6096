"""Fixtures for the alerting tests: a manager over a DuckDB file, driven by a SimClock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from selfheal_ml.alerting import AlertManager, Notifier, RecordingNotifier
from selfheal_ml.clock import SimClock
from selfheal_ml.storage.alerts import AlertStore
from selfheal_ml.storage.database import Database

ManagerFactory = Callable[..., AlertManager]


@pytest.fixture
def recorder() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_manager(
    db_path: Path, sim_clock: SimClock, recorder: RecordingNotifier
) -> Iterator[ManagerFactory]:
    """Build managers on one DuckDB file; ``reopen=True`` closes the file and opens it again."""
    databases: list[Database] = []

    def build(notifiers: list[Notifier] | None = None, **options: Any) -> AlertManager:
        database = Database(db_path)
        databases.append(database)
        chosen = notifiers if notifiers is not None else [recorder]
        return AlertManager(AlertStore(database), sim_clock, chosen, **options)

    yield build
    for database in databases:
        database.close()
