"""Scenario 2 of the seed against the real PostgreSQL: a slow API from a missing index.

A small shop API (FastAPI on loopback) answers ``/customers/{id}/orders`` with a literal
``SELECT ... WHERE customer_id = <n>`` (psycopg ``ClientCursor``, as many ORMs send it) on a
table of :data:`ROWS` rows without an index on ``customer_id``: every request scans the table.
Background threads keep it busy. The whole runtime (``build_runtime``: Monitor, Diagnostic,
Repair, Learning; virtual time, real I/O) watches the API (an HTTP probe) and the database
(the PostgreSQL collector with a low ``slow_query_ms``), and must tell the whole story:

1. the alerts fire (``HighResponseTime`` on the API, ``SlowQueries`` on the database);
2. the incident is diagnosed as ``slow_query@<database>``, and the index investigator traced
   it to the table and column (the diagnosis' ``findings`` and ``parameters``);
   the Performance agent watched the database for the incident and found the same missing
   index (``OptimizationFound`` under the incident's correlation id);
3. the Repair agent waited for that analysis and took its table and columns as the repair's
   parameters: the repair (``pg_create_index_concurrently``, high risk) waits for approval,
   audited, and nothing ran;
4. a person approves it through the real route ``POST /admin/repairs/{id}/approve``;
5. the index exists and is valid, latency recovers, the Repair agent publishes
   ``RepairExecuted(outcome="worked")``, the audit log holds the executed row with the
   approver, and the Learning agent recorded the worked attempt in the incident history (and
   the signature's playbook).

Skipped, with the reason, when no PostgreSQL answers on loopback. The load loops are bounded in
time and count and stop by themselves.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from selfheal_ml.clock import SimClock
from selfheal_ml.config import Agents, AgentToggle, Intervals, Settings, Target, Thresholds
from selfheal_ml.events import (
    AlertRaised,
    Event,
    IncidentDiagnosed,
    MetricsCollected,
    OptimizationFound,
    RepairEscalated,
    RepairExecuted,
)

if TYPE_CHECKING:
    from selfheal_ml.runtime import Runtime

pytestmark = pytest.mark.integration

# 3M rows: a scan takes 90 ms or more even on a fast idle machine, well clear of the limits
# below (with 1M rows a fast machine scanned in about 30 ms: the probe's latency and the slow
# queries flapped around the limits, and the incident closed as recovered before its repair)
ROWS = 3_000_000
CUSTOMERS = 50_000
TABLE = f"scenario_orders_{os.getpid()}"
INDEX = f"{TABLE}_customer_id_idx"
LOAD_THREADS = 3
POOL_SIZE = LOAD_THREADS + 2  # the load, the monitor's probe, one spare
LOAD_MAX_S = 300.0  # the load stops by itself after this long or this many requests
LOAD_MAX_REQUESTS = 20_000
LOAD_INTERVAL_S = 0.05  # at most 20 requests per second per thread (a scan takes longer)
SLOW_QUERY_MS = 15.0
RESPONSE_TIME_MS = 60.0
HEALTH_S = 10.0  # virtual seconds between health checks
ADMIN_TOKEN = "scenario-token"
APPROVER = "alice@example.com"
DB_TARGET = "shop-db"
API_TARGET = "shop-api"


@pytest.fixture(scope="module")
def scenario_dsn(postgres_dsn: str) -> str:
    """The ``test`` database of the local server when it has one, else the fixture's."""
    dsn = postgres_dsn.rsplit("/", 1)[0] + "/test"
    try:
        with psycopg.connect(dsn, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return postgres_dsn
    return dsn


@pytest.fixture(scope="module")
def orders_table(scenario_dsn: str) -> Iterator[str]:
    """A big table without an index on ``customer_id`` (dropped afterwards; unlogged, to fill
    fast: the scans and the index build are the same)."""
    with psycopg.connect(scenario_dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))
        connection.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} (id bigint PRIMARY KEY, customer_id integer NOT NULL,"
                " total numeric(10, 2) NOT NULL)"
            ).format(sql.Identifier(TABLE))
        )
        connection.execute(
            sql.SQL(
                "INSERT INTO {} SELECT g, g %% %s, (g %% 1000) / 10.0"
                " FROM generate_series(1, %s) AS g"
            ).format(sql.Identifier(TABLE)),
            (CUSTOMERS, ROWS),
        )
        connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(TABLE)))
    try:
        yield TABLE
    finally:
        with psycopg.connect(scenario_dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))


class ConnectionPool:
    """A fixed set of literal-SQL connections shared by the API's worker threads."""

    def __init__(self, dsn: str, size: int, literal: bool = True) -> None:
        self.idle: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
        self.all: list[psycopg.Connection[Any]] = []
        # literal SQL, as many ORMs send it, or server-side parameters ($1)
        cursor = psycopg.ClientCursor if literal else psycopg.Cursor
        for _ in range(size):
            connection = psycopg.connect(
                dsn,
                autocommit=True,
                cursor_factory=cursor,
                application_name="scenario-shop",
                # one core per query: the machine's 2 cores are shared
                options="-c max_parallel_workers_per_gather=0",
            )
            self.all.append(connection)
            self.idle.put(connection)

    def run(self, query: sql.Composed, arguments: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        connection = self.idle.get(timeout=30.0)
        try:
            return connection.execute(query, arguments).fetchall()
        finally:
            self.idle.put(connection)

    def close(self) -> None:
        for connection in self.all:
            connection.close()


def serve_shop(dsn: str, table: str, binding: str = "literal") -> None:
    """The shop API and its load, run as a child process (``python <this file> DSN TABLE
    BINDING``; ``BINDING``: ``literal`` SQL or ``server``-side parameters).

    A process of its own, as a real service is: in the test's process the load's threads would
    pause whenever the runtime's event loop holds the GIL, and the gaps would look like
    recoveries. It prints its base URL, serves until its standard input closes (the test ends
    or dies), then prints how many requests the load sent and how many failed.
    """
    pool = ConnectionPool(dsn, POOL_SIZE, literal=binding == "literal")
    query = sql.SQL("SELECT id, total FROM {} WHERE customer_id = %s").format(sql.Identifier(table))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            match = re.fullmatch(r"/customers/(\d+)/orders", self.path)
            if match is None:
                self.send_error(404)
                return
            rows = pool.run(query, (int(match.group(1)),))
            body = json.dumps({"customer": int(match.group(1)), "orders": len(rows)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    load = Load(base_url)
    load.start(LOAD_THREADS)
    print(base_url, flush=True)
    try:
        sys.stdin.read()
    finally:
        load.close()
        server.shutdown()
        pool.close()
        print(f"{load.requests} {len(load.failures)} {load.failures[:3]}", flush=True)


@pytest.fixture(params=["literal", "server"])
def shop_api(request: pytest.FixtureRequest, scenario_dsn: str, orders_table: str) -> Iterator[str]:
    """The base URL of the shop API, under load, in a child process (see :func:`serve_shop`):
    literal SQL (the Diagnostic agent's investigator explains it) or server-side parameters
    (``$1``: only the Performance agent's generic plans explain it). The index an earlier
    story built is dropped first: each story starts from the missing index."""
    with psycopg.connect(scenario_dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(INDEX)))
    child = subprocess.Popen(
        [sys.executable, __file__, scenario_dsn, orders_table, request.param],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        base_url = child.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), f"the shop API did not start: {base_url!r}"
        yield base_url
    finally:
        try:
            summary, _ = child.communicate(timeout=60.0)  # closes its stdin: it stops
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
    requests, failures, examples = summary.strip().split(" ", 2)
    assert int(requests) > 0
    assert int(failures) == 0, examples


@dataclass
class Load:
    """Background threads requesting customers' orders until stopped (bounded anyway)."""

    base_url: str
    threads: list[threading.Thread] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, count: int) -> None:
        for number in range(count):
            thread = threading.Thread(target=self._loop, args=(number,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _loop(self, number: int) -> None:
        deadline = time.monotonic() + LOAD_MAX_S
        customer = 1 + number
        with httpx.Client(base_url=self.base_url, timeout=30.0) as client:
            next_at = time.monotonic()
            while not self.stop.wait(max(0.0, next_at - time.monotonic())):
                if time.monotonic() > deadline:
                    return
                next_at = time.monotonic() + LOAD_INTERVAL_S
                with self.lock:
                    if self.requests >= LOAD_MAX_REQUESTS:
                        return
                    self.requests += 1
                customer = (customer * 7919 + 13) % CUSTOMERS
                try:
                    client.get(f"/customers/{customer}/orders").raise_for_status()
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30.0)


@dataclass
class Recorder:
    """Every event of the story, in order."""

    events: list[Event] = field(default_factory=list)

    async def record(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

    def alerts(self, name: str, *, firing: bool) -> list[AlertRaised]:
        return [a for a in self.of(AlertRaised) if a.alertname == name and a.firing is firing]

    def story(self) -> str:
        lines = []
        for event in self.events:
            if isinstance(event, AlertRaised):
                state = "firing" if event.firing else "resolved"
                lines.append(f"alert {event.alertname} {state} {event.labels}")
            elif isinstance(event, IncidentDiagnosed):
                lines.append(f"diagnosed {event.root_causes} {event.diagnosis.findings}")
            elif isinstance(event, RepairExecuted | RepairEscalated):
                lines.append(repr(event))
        return "\n".join(lines) or "no alert, diagnosis or repair event"


def probe_latencies(recorder: Recorder) -> list[float]:
    return [
        point.value
        for collected in recorder.of(MetricsCollected)
        for point in collected.points
        if point.series.startswith("probe_latency_ms")
    ]


def index_state(dsn: str) -> tuple[bool, bool] | None:
    """``(valid, ready)`` of the repair's index, ``None`` while it does not exist."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            "SELECT i.indisvalid, i.indisready FROM pg_indexes AS x"
            " JOIN pg_class AS c ON c.relname = x.indexname"
            " JOIN pg_index AS i ON i.indexrelid = c.oid"
            " WHERE x.tablename = %s AND x.indexname = %s",
            (TABLE, INDEX),
        ).fetchone()
    return None if row is None else (bool(row[0]), bool(row[1]))


def wait_for_slow_queries(dsn: str, deadline_s: float = 20.0) -> None:
    """Block until the load has a query running past the slow-query limit."""
    deadline = time.monotonic() + deadline_s
    with psycopg.connect(dsn, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scenario-shop'"
                " AND state = 'active'"
                " AND clock_timestamp() - query_start > make_interval(secs => %s)",
                (SLOW_QUERY_MS / 1000.0,),
            ).fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.05)
    pytest.fail(f"the load produced no query slower than {SLOW_QUERY_MS} ms in {deadline_s} s")


def scenario_settings(tmp_path: Path, api_url: str, dsn: str) -> Settings:
    off = AgentToggle(enabled=False)
    return Settings(
        admin_token=SecretStr(ADMIN_TOKEN),
        db_path=str(tmp_path / "selfheal.duckdb"),
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",  # no champion: the runbook
        intervals=Intervals(health_check_s=HEALTH_S, metrics_s=60.0),
        thresholds=Thresholds(response_time_ms=RESPONSE_TIME_MS),
        agents=Agents(security=off, predictive=off),
        targets=(
            Target(kind="http", name=API_TARGET, url=api_url, platform="shop", timeout_s=10.0),
            Target(
                kind="postgres",
                name=DB_TARGET,
                url=dsn,
                platform="shop",
                timeout_s=10.0,
                slow_query_ms=SLOW_QUERY_MS,
            ),
        ),
    )


async def run_rounds(
    runtime: Runtime,
    clock: SimClock,
    done: Callable[[], bool],
    recorder: Recorder,
    what: str,
    *,
    max_rounds: int = 12,
    max_s: float = 25.0,
) -> None:
    """Health checks one by one (virtual time, real I/O) until ``done`` holds."""
    deadline = time.monotonic() + max_s
    for _ in range(max_rounds):
        await runtime.scheduler.run_until(clock.now() + timedelta(seconds=HEALTH_S))
        if done():
            return
        if time.monotonic() > deadline:
            break
    pytest.fail(f"{what}: not within {max_rounds} health checks / {max_s} s.\n{recorder.story()}")


async def until(
    done: Callable[[], bool], what: str, recorder: Recorder, max_s: float = 20.0
) -> None:
    """Let the agents work (real time) until ``done`` holds, at most ``max_s``."""
    deadline = time.monotonic() + max_s
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {max_s} s.\n{recorder.story()}")
        await asyncio.sleep(0.1)


async def test_slow_api_from_a_missing_index_is_traced_fixed_after_approval_and_verified(
    tmp_path: Path, scenario_dsn: str, shop_api: str, request: pytest.FixtureRequest
) -> None:
    wait_for_slow_queries(scenario_dsn)
    literal = "literal" in request.node.callspec.id
    await _story(tmp_path, shop_api, scenario_dsn, TABLE, literal)


async def _story(tmp_path: Path, base_url: str, dsn: str, table: str, literal: bool) -> None:
    # the service is imported here, not at the top: the shop's child process (which runs this
    # file) needs none of it, and importing it all takes seconds on a busy machine
    from selfheal_ml.runtime import build_runtime, start_runtime

    settings = scenario_settings(tmp_path, f"{base_url}/customers/17/orders", dsn)
    clock = SimClock(datetime.now(UTC).replace(microsecond=0))
    runtime = build_runtime(settings, clock=clock, extras={"diagnosis": {"settle_s": 0}})
    recorder = Recorder()
    stories = (AlertRaised, IncidentDiagnosed, MetricsCollected, OptimizationFound)
    for kind in (*stories, RepairExecuted, RepairEscalated):
        runtime.bus.subscribe(kind, recorder.record, name=f"scenario:{kind.__name__}")
    await start_runtime(runtime, run_scheduler=False)
    try:
        await _detect_diagnose_wait(runtime, clock, recorder, table, literal)
        await _approve_and_verify(runtime, clock, recorder, settings, dsn, table)
    finally:
        await runtime.stop()


async def _detect_diagnose_wait(
    runtime: Runtime, clock: SimClock, recorder: Recorder, table: str, literal: bool
) -> None:
    # 1. detect: the API is slow, the database has slow queries (the repair also waits for
    # the Performance agent's few seconds of analysis: a deadline, not a sleep)
    await run_rounds(
        runtime,
        clock,
        lambda: bool(recorder.of(IncidentDiagnosed)) and bool(runtime.repair_service.pending()),
        recorder,
        "a diagnosis and a repair waiting for approval",
        max_s=45.0,
    )
    slow = recorder.alerts("SlowQueries", firing=True)
    assert slow, recorder.story()
    assert slow[0].labels == {"target": DB_TARGET, "platform": "shop"}
    assert recorder.alerts("HighResponseTime", firing=True), recorder.story()
    assert max(probe_latencies(recorder)) > RESPONSE_TIME_MS

    # 2. diagnose: a slow query on the database, traced to the table and column. Under load
    # the latency alert can be diagnosed a check before the slow queries show, without a
    # cause; the repair acts on the incident's latest revision, so that is the one to check.
    [pending] = runtime.repair_service.pending()
    diagnosis = [
        d for d in recorder.of(IncidentDiagnosed) if d.incident_id == pending.request.incident_id
    ][-1]
    assert diagnosis.root_causes[0] == f"slow_query@{DB_TARGET}", recorder.story()
    params = {"table": table, "columns": ["customer_id"], "schema": "public"}
    if literal:
        assert diagnosis.diagnosis.known_fix == "add_index"
        [finding] = diagnosis.diagnosis.findings
        assert f"scans {table} sequentially filtering on customer_id" in finding
        assert f"an index on {table}(customer_id)" in finding
        assert diagnosis.diagnosis.parameters["add_index"] == params
    else:
        # "$1" in pg_stat_activity: the investigator cannot EXPLAIN it, so the diagnosis alone
        # would try a reindex; the Performance agent's analysis is what finds the index
        assert "add_index" not in diagnosis.diagnosis.parameters
        assert diagnosis.diagnosis.known_fix == "reindex"

    # 2b. the Performance agent analysed the incident's database: the same index, in the
    # incident's story (it proposes nothing itself: the repair below is the only one, and
    # the Repair agent took its parameters from this finding)
    await until(
        lambda: any(
            event.kind == "missing_index" and event.table == table
            for event in recorder.of(OptimizationFound)
            if event.correlation_id == diagnosis.correlation_id
        ),
        "the Performance agent's missing_index finding on the incident's table",
        recorder,
    )
    [analysed] = [
        e
        for e in recorder.of(OptimizationFound)
        if e.kind == "missing_index"
        and e.table == table
        and e.correlation_id == diagnosis.correlation_id
    ]
    assert analysed.columns == ("customer_id",) and analysed.target == DB_TARGET
    case = runtime.agents["Repair"].agent.cases[diagnosis.incident_id]  # type: ignore[attr-defined]
    assert case.step is not None and case.step.strategy == "add_index"
    assert case.step.reason.startswith("the Performance agent found the index missing"), (
        case.step.reason
    )

    # 3. the high-risk repair waits for a person; nothing ran
    assert pending.request.action == "pg_create_index_concurrently"
    assert pending.request.target == DB_TARGET, recorder.story()
    assert dict(pending.request.params) == params
    assert pending.request.incident_id == diagnosis.incident_id
    rows = runtime.repairs.attempts()
    assert [(row.decision, row.action) for row in rows] == [
        ("pending_approval", "pg_create_index_concurrently")
    ]
    assert runtime.repair_service.awaiting_outcome() == []
    assert recorder.of(RepairExecuted) == []
    assert recorder.of(RepairEscalated) == [], recorder.story()


async def _approve_and_verify(
    runtime: Runtime,
    clock: SimClock,
    recorder: Recorder,
    settings: Settings,
    dsn: str,
    table: str,
) -> None:
    from selfheal_ml.api.app import create_app  # see _story

    assert index_state(dsn) is None
    # 4. a person approves through the API (the app serves this runtime; ASGI in-process, so
    # the executor runs on the runtime's own event loop)
    app = create_app(settings, run_scheduler=False)
    app.state.runtime = runtime
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://selfheal") as api:
        listed = await api.get("/admin/repairs/pending", headers=auth)
        assert listed.status_code == 200, listed.text
        [waiting] = listed.json()
        assert waiting["action"] == "pg_create_index_concurrently"
        answer = await api.post(
            f"/admin/repairs/{waiting['id']}/approve", headers=auth, json={"by": APPROVER}
        )
    assert answer.status_code == 200, answer.text
    approved = answer.json()
    assert approved["decision"] == "executed", approved
    assert approved["result"]["ok"] is True, approved
    assert f"approved by {APPROVER}" in approved["reason"]

    # 5. the index exists and is valid; the repair is verified by recovery
    assert index_state(dsn) == (True, True)
    before = len(probe_latencies(recorder))

    def recovered() -> bool:
        worked = [e for e in recorder.of(RepairExecuted) if e.outcome == "worked"]
        return bool(worked) and bool(recorder.alerts("HighResponseTime", firing=False))

    await run_rounds(runtime, clock, recovered, recorder, "RepairExecuted(worked)", max_rounds=20)
    [executed] = recorder.of(RepairExecuted)
    assert (executed.action, executed.target, executed.outcome) == (
        "add_index",
        DB_TARGET,
        "worked",
    )
    assert recorder.alerts("SlowQueries", firing=False), recorder.story()
    after = probe_latencies(recorder)[before:]
    assert min(after) < RESPONSE_TIME_MS < max(probe_latencies(recorder)[:before])
    assert recorder.of(RepairEscalated) == []

    rows = runtime.repairs.attempts()
    by_decision = {row.decision: row for row in rows}
    assert sorted(by_decision) == ["executed", "pending_approval"]
    done = by_decision["executed"]
    assert done.action == "pg_create_index_concurrently"
    assert done.outcome == "worked"
    assert done.reason is not None and f"approved by {APPROVER}" in done.reason
    assert done.finished_at is not None
    assert by_decision["pending_approval"].outcome == "unknown"

    # 6. the Learning agent remembers: the worked attempt in the incident history
    def learned() -> bool:
        history = runtime.incidents.attempts_of([executed.incident_id])
        return bool((history["outcome"] == "worked").any()) if len(history) else False

    await until(learned, "the Learning agent's record of the worked repair", recorder)
    history = runtime.incidents.attempts_of([executed.incident_id])
    worked = history[history["outcome"] == "worked"].iloc[0]
    assert (worked["action"], worked["target"]) == ("add_index", DB_TARGET)
    assert runtime.incidents.signature_of(executed.incident_id) is not None


def hold_query(dsn: str, table: str, cursor: type[psycopg.Cursor[Any]]) -> threading.Thread:
    """A session running a 2 s scan of ``table`` (server-side or literal parameters)."""
    query = sql.SQL("SELECT pg_sleep(%s), count(*) FROM {} WHERE customer_id = %s").format(
        sql.Identifier(table)
    )

    def run() -> None:
        with psycopg.connect(
            dsn, autocommit=True, cursor_factory=cursor, application_name="scenario-hold"
        ) as connection:
            connection.execute(query, (2.0, 7))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    with psycopg.connect(dsn, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'scenario-hold' AND state = 'active'"
            ).fetchone()
            if row is not None and row[0] > 0:
                return thread
            time.sleep(0.02)
    pytest.fail("the held query did not start within 10 s")


async def test_the_investigator_explains_literal_queries_and_skips_parameterised_ones(
    scenario_dsn: str,
) -> None:
    from selfheal_ml.collectors import PostgresIndexInvestigator
    from selfheal_ml.diagnosis.investigation import Finding

    table = f"scenario_small_{os.getpid()}"
    identifier = sql.Identifier(table)
    investigator = PostgresIndexInvestigator(
        scenario_dsn, finding=Finding, samples=3, interval_s=0.1, min_rows=10_000
    )
    try:
        with psycopg.connect(scenario_dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(identifier))
            connection.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} (id integer, customer_id integer)").format(
                    identifier
                )
            )
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} SELECT g, g % 500 FROM generate_series(1, 20000) AS g"
                ).format(identifier)
            )
            connection.execute(sql.SQL("ANALYZE {}").format(identifier))
        # psycopg's default: server-side parameters, "$1" in pg_stat_activity: not explainable
        held = hold_query(scenario_dsn, table, psycopg.Cursor)
        assert await investigator.investigate([]) is None
        held.join(timeout=10.0)
        # the same query with literal values is explained and traced to the column
        held = hold_query(scenario_dsn, table, psycopg.ClientCursor)
        finding = await investigator.investigate([])
        held.join(timeout=10.0)
    finally:
        with psycopg.connect(scenario_dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(identifier))
    assert finding is not None
    assert dict(finding.params) == {"table": table, "columns": ["customer_id"], "schema": "public"}
    assert f"scans {table} sequentially filtering on customer_id" in finding.summary


if __name__ == "__main__":
    serve_shop(*sys.argv[1:4])
