"""CPU of the demo's own process and of its scoring worker, phase by phase.

On an idle 2-core machine the demo's run phase takes about as long as the busier of its two
processes, so the share of the series scored in the demo's own process
(``DemoOptions.scoring_local_share``) should leave the two about equally busy. This runs the
demo's phases (building the simulation with its fault-free history, then the run) and prints
the CPU seconds of each process, the wall time, the load average and the headline figures
(which must not depend on the share). Usage::

    .venv/bin/python pipelines/demo_cpu_split.py --days 0.5 --local-share 0.15
    .venv/bin/python pipelines/demo_cpu_split.py --days 0.5 --local-share equal
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's live children (the scoring worker)."""
    total = 0.0
    for child in multiprocessing.active_children():
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _measure(days: float, local_share: float | None, db_path: str) -> str:
    from selfheal_ml.config import load_settings
    from selfheal_ml.demo import DemoOptions, build_simulation

    options = DemoOptions(
        days=days, db_path=db_path, progress=False, scoring_local_share=local_share
    )
    cpu_0, wall_0 = time.process_time(), time.perf_counter()
    simulation = await build_simulation(load_settings(), options)
    cpu_1, wall_1 = time.process_time(), time.perf_counter()
    end = await simulation.run(days)
    cpu_2, wall_2 = time.process_time(), time.perf_counter()
    worker_s = _children_cpu_s()
    _, healing = simulation.score(days, end)
    await simulation.runtime.stop()
    figures = healing.as_dict()
    keys = ("faults_injected", "faults_detected", "root_cause_accuracy", "mttd_median_s")
    return (
        f"local share {local_share if local_share is not None else 'equal'}:"
        f" build and history: this process {cpu_1 - cpu_0:.1f} s CPU, {wall_1 - wall_0:.1f} s"
        f" wall; run (warm-up replay included): this process {cpu_2 - cpu_1:.1f} s CPU,"
        f" scoring worker {worker_s:.1f} s CPU, {wall_2 - wall_1:.1f} s wall;"
        f" load average {os.getloadavg()[0]:.1f}\n"
        f"figures: {', '.join(f'{key} {figures[key]}' for key in keys)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=0.5, help="simulated days after history")
    parser.add_argument(
        "--local-share",
        default="0.15",
        help="share of the series scored in the demo's process (0-1), or 'equal'",
    )
    args = parser.parse_args()
    share = None if args.local_share == "equal" else float(args.local_share)
    with tempfile.TemporaryDirectory() as scratch:
        print(asyncio.run(_measure(args.days, share, str(Path(scratch) / "demo.duckdb"))))


if __name__ == "__main__":
    main()
