"""Command executors: run an allow-listed command, or restart a process through one.

Only commands configured by name can run. Each is an argv list started with
``asyncio.create_subprocess_exec`` (no shell, so nothing in a request is ever interpreted by
one), killed after ``timeout_s``. Exit status 0 is ``ok``; the tail of the output goes into
``detail``. Nothing from the request is substituted into the argv.

- :class:`ShellExecutor` picks the command named by ``params["command"]``, else by the action.
- :class:`ProcessRestartExecutor` picks the command configured for the request's target.

>>> import asyncio, sys
>>> executor = ShellExecutor("ops", {"say_hi": [sys.executable, "-c", "print('hi')"]})
>>> result = asyncio.run(executor.execute(RepairRequest("i", "c", "say_hi", "host-1")))
>>> result.ok, result.detail
(True, 'say_hi exited 0: hi')
>>> asyncio.run(executor.execute(RepairRequest("i", "c", "rm_rf", "host-1"))).detail
'no command named rm_rf is configured (known: say_hi)'
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from selfheal_ml.actions.base import ExecutionResult, RepairRequest

OUTPUT_LIMIT = 400


def _validated(commands: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    checked: dict[str, tuple[str, ...]] = {}
    for name, argv in commands.items():
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError(f"commands.{name}: expected a non-empty argv list, got {argv!r}")
        checked[name] = tuple(argv)
    return checked


async def run_command(label: str, argv: Sequence[str], timeout_s: float) -> ExecutionResult:
    """Run ``argv`` (no shell) within ``timeout_s``; exit status 0 is ``ok``."""
    started = time.perf_counter()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
    except OSError as error:
        return ExecutionResult.failed(f"{label} could not start: {error}")
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        return ExecutionResult.failed(
            f"{label} killed after {timeout_s:g} s", time.perf_counter() - started
        )
    text = output.decode("utf-8", "replace").strip()[-OUTPUT_LIMIT:]
    code = process.returncode
    return ExecutionResult(
        ok=code == 0,
        detail=f"{label} exited {code}" + (f": {text}" if text else ""),
        data={"exit_code": code},
        duration_s=time.perf_counter() - started,
    )


class ShellExecutor:
    """Runs allow-listed commands by name (see module doc)."""

    def __init__(
        self, name: str, commands: Mapping[str, Sequence[str]], *, timeout_s: float = 30.0
    ) -> None:
        self._name = name
        self.commands = _validated(commands)
        self.timeout_s = timeout_s

    @property
    def name(self) -> str:
        return self._name

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        command = str(action.params.get("command", action.action))
        argv = self.commands.get(command)
        if argv is None:
            known = ", ".join(sorted(self.commands)) or "none"
            return ExecutionResult.failed(
                f"no command named {command} is configured (known: {known})"
            )
        return await run_command(command, argv, self.timeout_s)


class ProcessRestartExecutor:
    """Restarts a target's process with the command configured for that target."""

    def __init__(
        self, commands_by_target: Mapping[str, Sequence[str]], *, timeout_s: float = 60.0
    ) -> None:
        self.commands = _validated(commands_by_target)
        self.timeout_s = timeout_s

    @property
    def name(self) -> str:
        return "process-restart"

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        argv = self.commands.get(action.target)
        if argv is None:
            return ExecutionResult.failed(f"no restart command configured for {action.target}")
        return await run_command(f"restart of {action.target}", argv, self.timeout_s)
