"""Where the whole service's memory goes over time: RSS beside DuckDB's own accounting.

Starts ``selfheal-ml sim serve`` as a subprocess, builds and starts the runtime with the chosen
agents in this process (the live stack's timing: collection every 2 s), and every
``--every-s`` seconds prints ``VmRSS``, ``RssAnon`` and DuckDB's ``duckdb_memory()`` (total and
tags above 1 MB); at the end, what ``malloc_trim(0)`` gives back (memory glibc keeps after it
was freed). With ``--then-load``, it then measures the RSS that three later events add for good
(a forecast fit, the repair recommender's champion lookup, the training code). See
docs/benchmarks.md (issue 17, second pass).

Run: .venv/bin/python pipelines/runtime_memory_watch.py --minutes 11 [--agents all] [--then-load]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import tempfile
import time
from pathlib import Path


def status_mb() -> dict[str, int]:
    """``VmRSS`` and ``RssAnon`` of this process in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:")):
            name, value = line.split(":")
            found[name] = int(value.split()[0]) // 1024
    return found


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


async def watch(runtime: object, minutes: float, every_s: float) -> None:
    from selfheal_ml.runtime import Runtime, start_runtime

    assert isinstance(runtime, Runtime)
    await start_runtime(runtime)
    connection = runtime.database._conn  # a probe: DuckDB's own accounting
    print(f"started: {status_mb()} {duckdb_memory(connection)}", flush=True)
    started = time.monotonic()
    while time.monotonic() - started < minutes * 60:
        await asyncio.sleep(every_s)
        elapsed = (time.monotonic() - started) / 60
        load = os.getloadavg()[0]
        print(f"{elapsed:4.1f} min: {status_mb()} {duckdb_memory(connection)} load {load:.1f}")
    before = status_mb()["VmRSS"]
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"malloc_trim(0): {before} -> {status_mb()['VmRSS']} MB", flush=True)
    await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=11.0, help="how long to watch")
    parser.add_argument("--every-s", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--agents", default="all", help="as serve --agents (default all)")
    parser.add_argument("--then-load", action="store_true", help="measure the later imports")
    args = parser.parse_args()
    from selfheal_ml.live.stack import LIVE_TIMING, free_port, spawn, wait_until_ready

    workdir = Path(tempfile.mkdtemp(prefix="memory-watch-"))
    simulator = spawn("sim", ["sim", "serve", "--seed", "0"], free_port(), workdir, os.environ)
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

        runtime = build_runtime(with_agents(load_settings(), parse_agents(args.agents)))
        with long_lived_heap_frozen():  # as serve does
            asyncio.run(watch(runtime, args.minutes, args.every_s))
        for name, statement in LATER if args.then_load else ():
            before = status_mb()["VmRSS"]
            exec(statement)  # the fixed statements of LATER
            print(f"{name}: +{status_mb()['VmRSS'] - before} MB", flush=True)
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
