"""Where the API process's memory goes: RSS after each step of `serve --agents none`.

Runs the steps of ``selfheal-ml serve --agents none`` (or ``--agents all``, or some agents) in
this process (import the API, open and migrate the DuckDB store, build and start the runtime,
idle 8 s) and prints ``VmRSS`` after each, beside a bare ``import fastapi, uvicorn`` measured
first in the same process, and the top-level packages loaded at the end. See
docs/benchmarks.md (issues 17, 18, 20).

Run: .venv/bin/python pipelines/api_rss_steps.py [--agents all] [--db /tmp/steps.duckdb]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path


def rss_mb() -> int:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _start_and_idle(runtime: object) -> None:
    from selfheal_ml.runtime import Runtime, start_runtime

    assert isinstance(runtime, Runtime)
    await start_runtime(runtime)
    print(f"start_runtime: {rss_mb()} MB")
    await asyncio.sleep(8)
    print(f"8 s later: {rss_mb()} MB")
    await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=str(Path(tempfile.mkdtemp()) / "steps.duckdb"),
        help="DuckDB file the measured service opens (default: a new temporary file)",
    )
    parser.add_argument("--agents", default="none", help="as serve --agents (default none)")
    args = parser.parse_args()
    os.environ["SELFHEAL_DB"] = args.db
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{Path(args.db).parent}/mlflow.db")
    print(f"interpreter: {rss_mb()} MB")
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401

    print(f"import fastapi, uvicorn: {rss_mb()} MB")
    import selfheal_ml.api.app  # noqa: F401

    print(f"import selfheal_ml.api.app: {rss_mb()} MB")
    from selfheal_ml.agent_process import parse_agents, with_agents
    from selfheal_ml.config import load_settings
    from selfheal_ml.runtime import build_runtime
    from selfheal_ml.storage import Database

    settings = with_agents(load_settings(), parse_agents(args.agents))
    Database(settings.db_path).close()
    print(f"open and migrate the store: {rss_mb()} MB")
    runtime = build_runtime(settings)
    print(f"build_runtime: {rss_mb()} MB")
    asyncio.run(_start_and_idle(runtime))
    packages = sorted({name.split(".")[0] for name in sys.modules if not name.startswith("_")})
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; packages: {packages}")


if __name__ == "__main__":
    main()
