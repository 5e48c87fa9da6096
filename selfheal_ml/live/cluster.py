"""The live stack as a cluster on a real Redis: the API, agent processes and scorers.

:class:`LiveCluster` is a :class:`~selfheal_ml.live.stack.LiveStack` whose service runs only
the agents that share its DuckDB store (``serve --agents ...``), on a Redis bus under a stream
prefix of its own, beside agent processes (``selfheal-ml agent run ...``, each with its own
store) and ``N`` Predictive scorers (``agent run Predictive --partition K/N``), plus warm
standbys for the partitions named in ``standbys`` (a second process for the same partition,
waiting for its lease). The scorers start first, so their consumer groups exist before the
first metric is published (a group starts at the stream's end). A scorer can be killed
(``SIGKILL``) and restarted the way a process supervisor would
(:meth:`LiveCluster.kill_scorer`, :meth:`LiveCluster.restart_scorer`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from selfheal_ml.live.stack import LiveStack, ServerProcess

#: The agents that stay in the API process: they write the store the API reads.
API_AGENTS = ("Monitor", "Diagnostic", "Repair", "Learning")
#: A separate agent process (its own store): their state reaches the API as events only.
EDGE_AGENTS = ("Security", "Performance")


def spawn_agent(name: str, args: list[str], log_dir: Path, env: Mapping[str, str]) -> ServerProcess:
    """Start ``python -m selfheal_ml.cli agent run <args>`` with its output in a log file."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    command = [sys.executable, "-m", "selfheal_ml.cli", "agent", "run", *args]
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True
    )
    return ServerProcess(name, "", process, log_path, log)


@dataclass
class LiveCluster(LiveStack):
    """The API, one agent process and ``scorers`` scorers on the Redis at ``bus_url``."""

    bus_url: str = "redis://127.0.0.1:6379/0"
    bus_prefix: str = "selfheal-live"
    scorers: int = 2
    standbys: tuple[int, ...] = ()
    agent_processes: dict[str, ServerProcess] = field(default_factory=dict)

    def cluster_env(self, store: str) -> dict[str, str]:
        """A process's environment: the service's, its own store, the shared bus."""
        simulator = self.sim.url if self.sim is not None else "http://127.0.0.1:8700"
        env = self.service_env(simulator)  # scorers started before the simulator never call it
        env.update(
            SELFHEAL_BUS=self.bus_url,
            SELFHEAL_BUS_PREFIX=self.bus_prefix,
            SELFHEAL_DB=str(self.workdir / f"{store}.duckdb"),
        )
        return env

    def service_args(self) -> list[str]:
        return [*super().service_args(), "--agents", ",".join(API_AGENTS), "--bus", self.bus_url]

    def service_env(self, simulator_url: str) -> dict[str, str]:
        env = super().service_env(simulator_url)
        env.update(SELFHEAL_BUS=self.bus_url, SELFHEAL_BUS_PREFIX=self.bus_prefix)
        return env

    def scorer_name(self, index: int) -> str:
        """The process name (and log file) of scorer ``index``."""
        return f"scorer-{index}"

    def start_scorers(self) -> None:
        """Start the scorers (before the service: their groups must exist first)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for index in range(self.scorers):
            self.restart_scorer(index)

    def start_standbys(self) -> None:
        """Start the standbys (after the scorers own their partitions' leases)."""
        for index in self.standbys:
            self.restart_scorer(index, standby=True)

    def launch(self) -> None:
        if not self.agent_processes:
            self.start_scorers()
        super().launch()
        env = self.cluster_env("edge")
        self.agent_processes["edge"] = spawn_agent("edge", list(EDGE_AGENTS), self.workdir, env)

    def kill_scorer(self, index: int) -> None:
        """``kill -9`` scorer ``index`` (no shutdown hook runs)."""
        process = self.agent_processes[self.scorer_name(index)].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def restart_scorer(self, index: int, *, standby: bool = False) -> None:
        """Start scorer ``index`` (again), as systemd's ``Restart=always`` would; ``standby``:
        a second process for the partition (it waits for the partition's lease)."""
        name = self.scorer_name(index) + ("-standby" if standby else "")
        previous = self.agent_processes.get(name)
        if previous is not None:
            previous.stop()
        args = ["Predictive", "--partition", f"{index}/{self.scorers}"]
        env = self.cluster_env(name)
        self.agent_processes[name] = spawn_agent(name, args, self.workdir, env)

    def exited(self) -> list[str]:
        """The agent processes that have stopped (with their exit codes)."""
        return [
            f"{name} (exit {process.process.returncode})"
            for name, process in self.agent_processes.items()
            if process.process.poll() is not None
        ]

    def logs(self, chars: int = 6000) -> str:
        parts = [super().logs(chars)]
        for process in self.agent_processes.values():
            parts.append(f"----- {process.name} -----\n{process.log_tail(chars)}")
        return "\n".join(parts)

    def stop(self) -> None:
        super().stop()
        for process in self.agent_processes.values():
            process.stop()
