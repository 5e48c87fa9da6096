"""Where the whole service's memory goes over time: RSS beside DuckDB's own accounting.

Starts ``selfheal-ml sim serve`` as a subprocess, builds and starts the runtime with the chosen
agents in this process (the live stack's timing: collection every 2 s), and every
``--every-s`` seconds prints ``VmRSS``, ``RssAnon``, the RSS of this process's children (forecast
and training children, scoring workers) and DuckDB's ``duckdb_memory()`` (total and tags above
1 MB); at the end, what ``malloc_trim(0)`` gives back (memory glibc keeps after it was freed).
With ``--then-load``, it then measures the RSS that three later events add for good (a forecast
fit, the repair recommender's champion lookup, the training code) by importing them.

With ``--history``, the service lives through those events for real instead: before it starts,
the store receives 72 h of hourly-sampled history for ``--series`` synthetic resource series
(so the forecast round has 48 h to fit) and 120 simulated labelled incidents (so the Learning
agent can train); the forecast round runs every ``--forecast-s`` and the retraining every
``--retrain-s`` (defaults 3 and 5 minutes, instead of hourly and daily), and a
``db_unreachable`` fault is injected through the simulator at each of ``--faults-at`` minutes
(diagnosed, then repaired with the recommender's advice: its champion lookup). Each sample also
prints how many forecasts, incidents and registered model versions exist. It only uses APIs
that main had before issue 17's third pass, so the same file measures older code (run it with
``PYTHONPATH`` on an export of that commit). See docs/benchmarks.md (issue 17, third pass).

Run: .venv/bin/python pipelines/runtime_memory_watch.py --minutes 11 [--agents all] [--then-load]
     .venv/bin/python pipelines/runtime_memory_watch.py --minutes 14 --history [--faults-at 2,8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil


def status_mb() -> dict[str, int]:
    """``VmRSS`` and ``RssAnon`` of this process in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:")):
            name, value = line.split(":")
            found[name] = int(value.split()[0]) // 1024
    return found


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (glibc 2.33 and later)."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost",
        )
    ]  # fmt: skip


def heap_mb() -> str:
    """glibc's heap (in use, and free but kept; DuckDB's own allocator is not in it), Python's
    allocated blocks and the objects the garbage collector tracks: which of them grows."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    in_use = (info.uordblks + info.hblkhd) / 1048576
    import gc
    import sys

    arrow = ""
    if "pyarrow" in sys.modules:  # Arrow's own allocator (the metric appends build tables)
        pool = sys.modules["pyarrow"].default_memory_pool()
        arrow = f"; Arrow ({pool.backend_name}) {pool.bytes_allocated() / 1048576:.0f} MB"
    return (
        f"glibc in use {in_use:.0f} MB, free kept {info.fordblks / 1048576:.0f} MB; "
        f"Python blocks {sys.getallocatedblocks() // 1000}k, gc objects "
        f"{len(gc.get_objects()) // 1000}k{arrow}"
    )


def duckdb_memory(connection: object) -> str:
    """DuckDB's memory in MB, the tags above 1 MB, and its memory limit."""
    cursor = connection.cursor()  # type: ignore[attr-defined]
    total = cursor.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
    tags = cursor.execute(
        "SELECT tag, memory_usage_bytes // 1048576 FROM duckdb_memory() "
        "WHERE memory_usage_bytes > 1048576"
    ).fetchall()
    limit = cursor.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    cursor.close()
    return f"DuckDB {total / 1e6:.1f} MB {dict(tags)} (limit {limit})"


LATER = (
    (
        "a forecast fit (statsmodels, SciPy)",
        "import numpy as np, pandas as pd; from selfheal_ml.forecast.registry import "
        "default_forecaster; default_forecaster().fit(pd.Series(np.sin(np.arange(100) / 3) + 5,"
        " index=pd.date_range('2026-01-01', periods=100, freq='h', tz='UTC'))).forecast(24)",
    ),
    (
        "the repair recommender's champion lookup (MLflow)",
        "from selfheal_ml.tracking import Tracker; "
        "Tracker(os.environ['MLFLOW_TRACKING_URI']).alias_version('repair-strategy', 'champion')",
    ),
    ("the training code (scikit-learn, matplotlib)", "import selfheal_ml.training.train"),
)


HEAVY = ("mlflow", "sklearn", "skops", "statsmodels", "scipy.optimize", "matplotlib")
#: The simulator is this script's child too, but not part of the service.
NOT_THE_SERVICE: set[int] = set()


def heavy_loaded() -> list[str]:
    """The heavy libraries this process has imported so far."""
    import sys

    return [name for name in HEAVY if name in sys.modules]


def wal(database: object) -> str:
    """The WAL's size and the checkpoints the service forced (code that has them)."""
    if not hasattr(database, "wal_bytes"):
        return ""
    forced = getattr(database, "forced_checkpoints", 0)
    refused = getattr(database, "refused_checkpoints", 0)
    return (
        f"; WAL {database.wal_bytes() / 1e6:.1f} MB, forced checkpoints {forced}"
        f" ({refused} refused)"
    )


def children_mb() -> str:
    """How many child processes the service has (forecast and training children, scoring
    workers; not the simulator) and their summed RSS in MB."""
    rss = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in NOT_THE_SERVICE:
            continue
        try:
            rss.append(child.memory_info().rss)
        except psutil.Error:  # ended meanwhile
            continue
    return f"children {len(rss)}: {sum(rss) // 1048576} MB"


def progress(connection: object, registry: Path | None) -> str:
    """Forecasts cached, incidents recorded and model versions registered so far (read with
    DuckDB and sqlite3 directly: asking MLflow would import it into the measured process)."""
    cursor = connection.cursor()  # type: ignore[attr-defined]
    forecasts = cursor.execute("SELECT count(DISTINCT series) FROM forecasts").fetchone()[0]
    incidents = cursor.execute("SELECT count(*) FROM incidents").fetchone()[0]
    cursor.close()
    versions = 0
    if registry is not None and registry.exists():
        with contextlib.closing(sqlite3.connect(registry)) as database:
            try:
                versions = database.execute("SELECT count(*) FROM model_versions").fetchone()[0]
            except sqlite3.Error:
                versions = 0
    return f"forecasts {forecasts}, incidents {incidents}, model versions {versions}"


def inject_fault(simulator_url: str) -> None:
    """A ``db_unreachable`` fault on the first simulated platform (the README's example)."""
    from selfheal_ml.sim.platforms import DEFAULT_PLATFORMS

    body = {"platform": DEFAULT_PLATFORMS[0].name, "kind": "db_unreachable"}
    answer = httpx.post(f"{simulator_url}/sim/faults", json=body, timeout=10)
    print(f"fault injected: {answer.status_code} {answer.text}", flush=True)


async def watch(runtime: object, minutes: float, every_s: float, history: Any = None) -> None:
    from selfheal_ml.runtime import Runtime, start_runtime

    assert isinstance(runtime, Runtime)
    await start_runtime(runtime)
    connection = runtime.database._conn  # a probe: DuckDB's own accounting
    print(f"started: {status_mb()} {duckdb_memory(connection)}", flush=True)
    started = time.monotonic()
    faults = sorted(history.faults_at) if history is not None else []
    while time.monotonic() - started < minutes * 60:
        await asyncio.sleep(every_s)
        elapsed = (time.monotonic() - started) / 60
        while faults and elapsed >= faults[0]:
            faults.pop(0)
            await asyncio.to_thread(inject_fault, history.simulator_url)
        load = os.getloadavg()[0]
        print(f"{elapsed:4.1f} min: {status_mb()} {children_mb()} {duckdb_memory(connection)}"
              f" load {load:.1f}", flush=True)  # fmt: skip
        if history is not None:
            print(f"          {progress(connection, history.registry)}; {heavy_loaded()}",
                  flush=True)  # fmt: skip
        print(f"          {heap_mb()}{wal(runtime.database)}", flush=True)
    before = status_mb()["VmRSS"]
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"malloc_trim(0): {before} -> {status_mb()['VmRSS']} MB", flush=True)
    await runtime.stop()


def seed_history(database_path: Path, series: int) -> None:
    """72 h of history for ``series`` resource series (a point every 10 minutes, a daily cycle)
    and 120 simulated incidents, labelled by the repair that worked, ending now."""
    import numpy as np

    from selfheal_ml.clock import RealClock
    from selfheal_ml.events import MetricPoint, series_key
    from selfheal_ml.storage import Database
    from selfheal_ml.storage.incidents import IncidentStore
    from selfheal_ml.storage.metrics import MetricsStore
    from selfheal_ml.training import generate_history

    now = datetime.now(UTC)
    database = Database(database_path)
    metrics = MetricsStore(database, RealClock())
    steps = np.arange(72 * 6)
    for number in range(series):
        values = 40 + 15 * np.sin(2 * np.pi * (steps / 144 + number / series)) + number % 5
        metrics.append_points(
            MetricPoint(
                series=series_key("host_cpu_percent", {"platform": f"seeded-{number}"}),
                ts=now - timedelta(minutes=10 * (len(steps) - int(step))),
                value=float(value),
            )
            for step, value in zip(steps, values, strict=True)
        )
    incidents = generate_history(seed=61, count=120, start=now - timedelta(days=30), days=28)
    IncidentStore(database).append_history(incidents)
    database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=11.0, help="how long to watch")
    parser.add_argument("--every-s", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--agents", default="all", help="as serve --agents (default all)")
    parser.add_argument("--then-load", action="store_true", help="measure the later imports")
    parser.add_argument("--history", action="store_true", help="forecast, diagnose, retrain")
    parser.add_argument("--series", type=int, default=20, help="seeded series (--history)")
    parser.add_argument("--forecast-s", type=float, default=180.0, help="forecast interval")
    parser.add_argument("--retrain-s", type=float, default=300.0, help="retraining interval")
    parser.add_argument("--faults-at", default="2,8", help="minutes to inject a fault at")
    parser.add_argument("--simulator-port", type=int, default=0, help="default: any free one")
    args = parser.parse_args()
    from selfheal_ml.live.stack import LIVE_TIMING, free_port, spawn, wait_until_ready

    workdir = Path(tempfile.mkdtemp(prefix="memory-watch-"))
    simulator = spawn(
        "sim",
        ["sim", "serve", "--seed", "0"],
        args.simulator_port or free_port(),
        workdir,
        os.environ,
    )
    NOT_THE_SERVICE.add(simulator.process.pid)
    NOT_THE_SERVICE.update(
        child.pid for child in psutil.Process(simulator.process.pid).children(True)
    )
    try:
        wait_until_ready(simulator, "/health", 90)
        os.environ.update(LIVE_TIMING)
        os.environ.update(
            SELFHEAL_DB=str(workdir / "selfheal.duckdb"),
            MLFLOW_TRACKING_URI=f"sqlite:///{workdir / 'mlflow.db'}",
            SELFHEAL_SIMULATOR_URL=simulator.url,
            ENABLE_SELF_HEALING="true",
        )
        from selfheal_ml.agent_process import parse_agents, with_agents
        from selfheal_ml.config import load_settings
        from selfheal_ml.heap import long_lived_heap_frozen
        from selfheal_ml.runtime import build_runtime

        settings = with_agents(load_settings(), parse_agents(args.agents))
        history = None
        if args.history:
            settings = settings.model_copy(
                update={
                    "intervals": settings.intervals.model_copy(
                        update={"forecast_s": args.forecast_s, "retrain_s": args.retrain_s}
                    )
                }
            )
            seed_history(workdir / "selfheal.duckdb", args.series)
            history = argparse.Namespace(
                faults_at=[float(m) for m in args.faults_at.split(",") if m],
                simulator_url=simulator.url,
                registry=workdir / "mlflow.db",
            )
            print(f"seeded {args.series} series and labelled incidents: {status_mb()}", flush=True)
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        for name in (
            "selfheal_ml.agents.forecasting",
            "selfheal_ml.training",
            "selfheal_ml.agents.learning",
            "selfheal_ml.storage.database",  # a checkpoint DuckDB refused, and why
        ):
            logging.getLogger(name).setLevel(logging.INFO)  # the children's peaks and outcomes
        runtime = build_runtime(settings)
        with long_lived_heap_frozen():  # as serve does
            asyncio.run(watch(runtime, args.minutes, args.every_s, history))
        for name, statement in LATER if args.then_load else ():
            before = status_mb()["VmRSS"]
            exec(statement)  # the fixed statements of LATER
            print(f"{name}: +{status_mb()['VmRSS'] - before} MB", flush=True)
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
