"""Benchmark: resident memory of the service, API alone and with the agents in-process.

Each case starts the live simulator and ``selfheal-ml serve --dev`` as real processes
(:class:`selfheal_ml.live.stack.LiveStack`: temporary store, 2 s intervals) and reads the
service's ``VmRSS`` from ``/proc``:

- ``import selfheal_ml.api.app`` in a fresh interpreter (issue 20's target: 150 MB), beside a
  bare ``import fastapi, uvicorn`` in the same run: RSS, CPU seconds and the heavy libraries
  loaded;
- ``serve --agents none`` once ready plus ``API_ONLY_S`` seconds (issue 17's target: 150 MB),
  beside the same bare baseline;
- ``serve`` with all seven agents in-process after ``SELFHEAL_RSS_MINUTES`` minutes
  (default 10; target 300 MB), sampled every minute.

Printed: the figures and the load average; asserted: the service stayed up. The targets are
printed beside the figures, not asserted (see docs/cluster.md for the measured values).

Run: .venv/bin/pytest tests/benchmarks/test_service_rss.py -m benchmark -s -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from selfheal_ml.live.stack import LiveStack

pytestmark = pytest.mark.benchmark

API_ONLY_S = 10.0
API_ONLY_TARGET_MB = 150.0
IMPORT_TARGET_MB = 150.0
HEAVY = ("statsmodels", "sklearn", "mlflow", "river", "scipy", "pandas", "pyarrow", "matplotlib")
BASELINE = "import fastapi, uvicorn"
WHOLE_TARGET_MB = 300.0


@dataclass
class AgentsStack(LiveStack):
    """The live stack with ``serve --agents <agents>``."""

    agents: str = "all"

    def service_args(self) -> list[str]:
        return [*super().service_args(), "--agents", self.agents]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def import_cost(statement: str) -> dict[str, object]:
    """RSS (MB), CPU seconds and heavy libraries of a fresh interpreter after ``statement``."""
    probe = (
        "import json, resource, sys, time\n"
        "started = time.process_time()\n"
        f"{statement}\n"
        "cpu = time.process_time() - started\n"
        "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0]\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(json.dumps({'rss_mb': int(rss.split()[1]) / 1024, 'cpu_s': cpu, 'heavy': heavy}))"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    measured: dict[str, object] = json.loads(answer.stdout)
    return measured


def test_import_api() -> None:
    baseline = import_cost(BASELINE)
    api = import_cost("import selfheal_ml.api.app")
    base_mb, api_mb = float(str(baseline["rss_mb"])), float(str(api["rss_mb"]))
    print(
        f"\n{BASELINE}: {base_mb:.0f} MB RSS, {float(str(baseline['cpu_s'])):.2f} CPU s;"
        f" import selfheal_ml.api.app: {api_mb:.0f} MB RSS ({api_mb / base_mb:.1f}x),"
        f" {float(str(api['cpu_s'])):.2f} CPU s, heavy libraries {api['heavy']}"
        f" (target {IMPORT_TARGET_MB:.0f} MB; load average {load()})"
    )
    assert api["heavy"] == []


def test_api_process_without_agents(tmp_path: Path) -> None:
    with AgentsStack(tmp_path, agents="none") as stack:
        assert stack.service is not None
        time.sleep(API_ONLY_S)
        measured = rss_mb(stack.service.process.pid)
        assert stack.service.process.poll() is None
    baseline = float(str(import_cost(BASELINE)["rss_mb"]))
    print(
        f"\nserve --agents none: {measured:.0f} MB RSS {API_ONLY_S:.0f} s after ready "
        f"({measured / baseline:.1f}x a bare `{BASELINE}` process, {baseline:.0f} MB; "
        f"target {API_ONLY_TARGET_MB:.0f} MB; load average {load()})"
    )


def test_whole_service_after_minutes(tmp_path: Path) -> None:
    minutes = int(os.environ.get("SELFHEAL_RSS_MINUTES", "10"))
    with AgentsStack(tmp_path, agents="all") as stack:
        assert stack.service is not None
        samples = []
        for _minute in range(minutes):
            time.sleep(60)
            assert stack.service.process.poll() is None, stack.logs()
            samples.append(rss_mb(stack.service.process.pid))
    print(
        f"\nserve (all agents in-process), RSS per minute: "
        f"{', '.join(f'{value:.0f}' for value in samples)} MB "
        f"(target {WHOLE_TARGET_MB:.0f} MB after 10 min; load average {load()})"
    )
