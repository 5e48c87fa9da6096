"""The in-memory executor: records every request and answers from a script, touching nothing.

It is the stand-in for tests and demos, the way ``httpx.MockTransport`` stands in for the
network: a :class:`RecordingExecutor` answers ``ok=True`` by default, or whatever ``respond``
returns for the request.

>>> import asyncio
>>> executor = RecordingExecutor()
>>> request = RepairRequest("inc-1", "corr-1", "clear_cache", "leadsite.ai")
>>> asyncio.run(executor.execute(request)).ok
True
>>> [call.action for call in executor.calls]
['clear_cache']
"""

from __future__ import annotations

from collections.abc import Callable

from selfheal_ml.actions.base import ExecutionResult, RepairRequest

Responder = Callable[[RepairRequest], ExecutionResult]


def _succeed(request: RepairRequest) -> ExecutionResult:
    return ExecutionResult(ok=True, detail=f"recorded {request.action} on {request.target}")


class RecordingExecutor:
    """Keeps the requests it is handed in ``calls``; answers with ``respond(request)``."""

    def __init__(self, name: str = "recording", respond: Responder | None = None) -> None:
        self._name = name
        self.respond = respond or _succeed
        self.calls: list[RepairRequest] = []

    @property
    def name(self) -> str:
        return self._name

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        self.calls.append(action)
        return self.respond(action)
