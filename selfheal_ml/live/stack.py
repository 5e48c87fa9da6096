"""Start ``selfheal-ml sim serve`` and ``selfheal-ml serve --dev`` as real subprocesses.

Each process gets a free loopback port chosen at run time, its own log file, and a new session
so that stopping it ends everything it started. The service is configured through the
environment only (a temporary DuckDB file, a temporary MLflow store, short intervals and loop
timing): nothing on the developer's machine is read or written. ``LiveStack`` is a context
manager; leaving it (an exception included) always stops both processes.

>>> LIVE_TIMING["SELFHEAL_SETTLE_S"]
'6'
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from selfheal_ml.errors import SelfHealError

#: A loop that runs an incident in about a minute: checks every 2 s, diagnosis after 6 s,
#: a 45 s verification window (longer than the simulator's 30 s of 5xx after a restart: at
#: 30 s a restart's own blip raced its verification, and the crash scenario failed under load),
#: approvals that expire after 60 s.
LIVE_TIMING: Mapping[str, str] = {
    "SELFHEAL_HEALTH_CHECK_INTERVAL_S": "2",
    "SELFHEAL_METRICS_INTERVAL_S": "2",
    "SELFHEAL_SETTLE_S": "6",
    "SELFHEAL_VERIFY_S": "45",
    "SELFHEAL_PLAN_WAIT_S": "20",
    "SELFHEAL_RETRY_FOR_S": "60",
    "SELFHEAL_REPAIR_COOLDOWN_S": "5",
    "SELFHEAL_APPROVAL_TIMEOUT_S": "60",
}
STOP_TIMEOUT_S = 10.0
#: Log lines of one HTTP request each (collector polls, the API's access log).
REQUEST_NOISE = ("httpx: HTTP Request:", '" 200 OK', '" 201 Created', '" 503 Service')


class StackError(SelfHealError):
    """A server of the stack did not start (``log`` holds the end of its output)."""

    def __init__(self, message: str, log: str) -> None:
        self.log = log
        super().__init__(message)


def free_port() -> int:
    """A TCP port free on loopback at this moment (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One started server: its name, base URL, process and log file."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def log_tail(self, chars: int = 6000) -> str:
        """The end of what the process wrote (stdout and stderr together), without the
        per-request lines (the collectors' polls and the API's access log drown the rest)."""
        if not self._log.closed:
            self._log.flush()
        lines = self.log_path.read_text("utf-8", errors="replace").splitlines()
        kept = [line for line in lines if not any(noise in line for noise in REQUEST_NOISE)]
        return "\n".join(kept)[-chars:]

    def kill(self) -> int | None:
        """SIGKILL the process's session at once and wait for it; its code (``-9``)."""
        _signal_session(self.process, signal.SIGKILL)
        return self.process.wait(STOP_TIMEOUT_S)

    def stop(self) -> int | None:
        """Terminate the process's session, kill it after :data:`STOP_TIMEOUT_S`; its code."""
        if self.process.poll() is None:
            _signal_session(self.process, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_session(self.process, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_S)
        self._log.close()
        return self.process.returncode


def _signal_session(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # the session this process leads: only what we started


def spawn(
    name: str, args: list[str], port: int, log_dir: Path, env: Mapping[str, str]
) -> ServerProcess:
    """Start ``python -m selfheal_ml.cli <args> --port <port>`` with its output in a log file."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")  # a restarted server goes on in the same log
    command = [sys.executable, "-m", "selfheal_ml.cli", *args, "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True
    )
    return ServerProcess(name, f"http://127.0.0.1:{port}", process, log_path, log)


def wait_until_ready(server: ServerProcess, path: str, timeout_s: float) -> float:
    """Poll ``GET path`` until it answers 200; seconds waited, or :class:`StackError`."""
    started = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=2.0) as client:
        while time.monotonic() - started < timeout_s:
            if server.process.poll() is not None:
                code = server.process.returncode
                raise StackError(f"{server.name} exited with code {code}", server.log_tail())
            try:
                if client.get(path).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise StackError(
        f"{server.name} not ready on {path} within {timeout_s:.0f} s", server.log_tail()
    )


@dataclass
class LiveStack:
    """The simulator and the service, started in ``workdir`` (see the module doc)."""

    workdir: Path
    seed: int = 0
    timing: Mapping[str, str] = field(default_factory=lambda: dict(LIVE_TIMING))
    start_timeout_s: float = 90.0
    #: the service's TOML file (``serve --config``), e.g. with ``[[security.sources]]``
    service_config: Path | None = None
    #: the simulator writes its access/auth log here (``sim serve --access-log``)
    access_log: Path | None = None
    #: with ``access_log``: the simulator honours the service's bans with this bouncer key
    bouncer_key: str | None = None
    sim: ServerProcess | None = None
    service: ServerProcess | None = None

    def base_env(self) -> dict[str, str]:
        """The caller's environment without its selfheal settings (they would leak in)."""
        prefixes = ("SELFHEAL_", "AGENT_", "ENABLE_SELF_HEALING", "MLFLOW_TRACKING_URI")
        return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}

    def service_env(self, simulator_url: str) -> dict[str, str]:
        """The service's environment: the base one plus our store, timing and simulator."""
        env = self.base_env()
        env.update(self.timing)
        env.update(
            SELFHEAL_DB=str(self.workdir / "selfheal.duckdb"),
            MLFLOW_TRACKING_URI=f"sqlite:///{self.workdir / 'mlflow.db'}",
            SELFHEAL_SIMULATOR_URL=simulator_url,
            ENABLE_SELF_HEALING="true",
        )
        return env

    def service_args(self) -> list[str]:
        """``serve --dev`` plus ``--config`` when a configuration file is given."""
        config = [] if self.service_config is None else ["--config", str(self.service_config)]
        return ["serve", "--dev", *config]

    def launch(self) -> None:
        """Start both processes without waiting (several stacks can then start together)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        service_port = free_port()
        sim_args = ["sim", "serve", "--seed", str(self.seed)]
        sim_env = self.base_env()
        if self.access_log is not None:
            sim_args += ["--access-log", str(self.access_log)]
            if self.bouncer_key is not None:
                sim_args += ["--decisions-url", f"http://127.0.0.1:{service_port}"]
                sim_env["SELFHEAL_SIM_DECISIONS_KEY"] = self.bouncer_key
        self.sim = spawn("sim", sim_args, free_port(), self.workdir, sim_env)
        env = self.service_env(self.sim.url)
        self.service = spawn("service", self.service_args(), service_port, self.workdir, env)

    def wait_ready(self) -> None:
        """Wait for the simulator's ``/health`` and the service's ``/ready``."""
        assert self.sim is not None and self.service is not None, "launch() first"
        wait_until_ready(self.sim, "/health", self.start_timeout_s)
        wait_until_ready(self.service, "/ready", self.start_timeout_s)

    def restart_service(self, *, crash: bool = False) -> None:
        """Stop the service and start it again on the same port, store and simulator (what
        an operator's restart or a deploy does); waits until it is ready. ``crash`` kills it
        with SIGKILL instead (``kill -9``: no shutdown, no checkpoint)."""
        assert self.sim is not None and self.service is not None, "launch() first"
        port = int(self.service.url.rsplit(":", 1)[1])
        if crash:
            self.service.kill()
        self.service.stop()
        env = self.service_env(self.sim.url)
        self.service = spawn("service", self.service_args(), port, self.workdir, env)
        wait_until_ready(self.service, "/ready", self.start_timeout_s)

    def logs(self, chars: int = 6000) -> str:
        """The end of both logs, labelled, for a failure report."""
        parts = [
            f"----- {server.name} ({server.log_path}) -----\n{server.log_tail(chars)}"
            for server in (self.sim, self.service)
            if server is not None
        ]
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the service, then the simulator (each at most once)."""
        for server in (self.service, self.sim):
            if server is not None:
                server.stop()

    def __enter__(self) -> LiveStack:
        self.launch()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
