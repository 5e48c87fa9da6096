"""Scenario 1 of the original design, closed loop, against the real PostgreSQL on this machine:
the database connection is lost -> detect, diagnose, reconnect, learn.

The fault is real: an application role with a connection limit of 3 whose leaked idle
sessions use up every slot, so the Monitor (connecting as that application) is refused. The
Monitor raises critical alerts, the Diagnostic agent names connection-pool exhaustion on the
database, the Repair agent terminates the idle sessions through the PostgreSQL executor (a
low-risk action, executed at once), verifies that the alerts cleared, and the Learning agent
records the outcome in the incident history and the playbook.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from selfheal_ml.actions import PostgresExecutor
from selfheal_ml.alerting import RecordingNotifier
from selfheal_ml.clock import RealClock
from selfheal_ml.config import Target, load_settings
from selfheal_ml.events import (
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    RepairEscalated,
    RepairExecuted,
)
from selfheal_ml.runtime import build_runtime, start_runtime

pytestmark = pytest.mark.integration

ROLE = "selfheal_scenario_app"
LEAKY_APP = "leaky-app"
SLOTS = 3


@pytest.fixture
def app_dsn(postgres_dsn: str) -> Iterator[str]:
    """A DSN for an application role limited to :data:`SLOTS` connections."""
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        _drop_role(admin)
        admin.execute(f"CREATE ROLE {ROLE} LOGIN CONNECTION LIMIT {SLOTS}")
        database = admin.execute("SELECT current_database()").fetchone()
        assert database is not None
        admin.execute(f'GRANT CONNECT ON DATABASE "{database[0]}" TO {ROLE}')
    parts = conninfo_to_dict(postgres_dsn)
    host, port = parts.get("host", "127.0.0.1"), parts.get("port", "5432")
    yield f"postgresql://{ROLE}@{host}:{port}/{parts.get('dbname', 'postgres')}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        _drop_role(admin)


def _drop_role(admin: psycopg.Connection[Any]) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [ROLE]
    )
    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
    if exists:
        database = admin.execute("SELECT current_database()").fetchone()
        assert database is not None
        admin.execute(f'REVOKE CONNECT ON DATABASE "{database[0]}" FROM {ROLE}')
        admin.execute(f"DROP ROLE {ROLE}")


async def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.05)


async def test_scenario_1_detect_diagnose_reconnect_learn(
    postgres_dsn: str, app_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "scenario1.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("SELFHEAL_HEALTH_CHECK_INTERVAL_S", "0.5")
    target = Target(kind="postgres", name="database", url=app_dsn, timeout_s=2.0)
    settings = load_settings().model_copy(update={"targets": (target,)})
    # the executor connects as an administrator: the application's own slots are used up
    admin_executor = PostgresExecutor("postgres:admin", postgres_dsn)
    runtime = build_runtime(
        settings,
        clock=RealClock(),
        notifiers=[RecordingNotifier("scenario")],
        extras={
            "repair_executors": {"pg_terminate_idle": admin_executor},
            "strategy_params": {
                "reset_db_connections": {"older_than_s": 0, "application_name": LEAKY_APP}
            },
            "diagnosis": {"settle_s": 0},
        },
    )
    seen: list[Event] = []
    db_up: list[float] = []

    async def record(event: Event) -> None:
        seen.append(event)

    async def watch(event: Event) -> None:
        if isinstance(event, MetricsCollected):
            db_up.extend(p.value for p in event.points if p.series.startswith("db_up"))

    runtime.bus.subscribe(MetricsCollected, watch, name="test:db_up")
    for kind in (IncidentDiagnosed, RepairExecuted, RepairEscalated):
        runtime.bus.subscribe(kind, record, name=f"test:{kind.__name__}")
    leaked: list[psycopg.Connection[Any]] = []
    await start_runtime(runtime)
    try:
        await _wait_for(lambda: db_up[-2:] == [1.0, 1.0], 15, "two healthy checks")
        assert runtime.alerts.alerts("firing", 10) == []

        # the fault: the application leaks its connections and keeps them idle
        for _ in range(SLOTS):
            leaked.append(psycopg.connect(app_dsn, application_name=LEAKY_APP, autocommit=True))

        def firing() -> set[str]:
            return {a.labels["alertname"] for a in runtime.alerts.alerts("firing", 50)}

        both = {"DatabaseConnectionFailure", "DatabaseConnectionsExhausted"}
        await _wait_for(lambda: both <= firing(), 10, "detection")
        critical = [a for a in runtime.alerts.alerts("firing", 50) if a.severity == "critical"]
        assert {"DatabaseConnectionFailure", "DatabaseConnectionsExhausted"} <= {
            a.labels["alertname"] for a in critical
        }

        def worked() -> bool:
            return any(isinstance(e, RepairExecuted) and e.outcome == "worked" for e in seen)

        await _wait_for(worked, 30, "repair verified")
        # the Learning agent handles each event type on its own queue: stopping now could close
        # the database under its write of the outcome
        await _wait_for(lambda: bool(runtime.incidents.playbooks()), 10, "outcome learned")
    finally:
        for connection in leaked:
            connection.close()
        await runtime.stop()

    (diagnosis,) = [e for e in seen if isinstance(e, IncidentDiagnosed)]
    assert diagnosis.root_causes[0] == "db_pool_exhaustion@database"
    assert diagnosis.diagnosis.severity == "critical"
    assert "db_pool_exhaustion on database" in diagnosis.diagnosis.summary
    (repair,) = [e for e in seen if isinstance(e, RepairExecuted)]
    assert (repair.action, repair.target, repair.incident_id) == (
        "reset_db_connections",
        "database",
        diagnosis.incident_id,
    )
    assert not any(isinstance(e, RepairEscalated) for e in seen)
    # the leaked sessions really were terminated by the server
    assert all(connection.closed or _is_dead(connection) for connection in leaked)

    # learn: the incident is labelled with what worked, and the playbook counts it
    runtime = build_runtime(settings, clock=RealClock())
    try:
        incident = runtime.incidents.incident(diagnosis.incident_id)
        assert incident is not None
        assert incident["status"] == "resolved"
        assert incident["resolved_by"] == "reset_db_connections"
        (entry,) = runtime.incidents.playbook(incident["signature"])
        assert (entry.strategy, entry.attempts, entry.successes) == ("reset_db_connections", 1, 1)
        (attempt,) = runtime.repairs.attempts()
        assert (attempt.action, attempt.decision, attempt.outcome) == (
            "pg_terminate_idle",
            "executed",
            "worked",
        )
        assert attempt.correlation_id == diagnosis.correlation_id
        repairs = runtime.dashboard()["repairs"]
        assert (repairs["total"], repairs["successRate"], repairs["active"]) == (1, "100%", 0)
    finally:
        runtime.database.close()


def _is_dead(connection: psycopg.Connection[Any]) -> bool:
    try:
        connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_the_application_role_really_is_limited(app_dsn: str) -> None:
    """The fault is what it claims: the role's slots run out and the server refuses more."""
    held = [psycopg.connect(app_dsn) for _ in range(SLOTS)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections"):
            psycopg.connect(app_dsn)
    finally:
        for connection in held:
            connection.close()
