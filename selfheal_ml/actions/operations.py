"""The shared shell of executors that run one of several named operations on one server.

``OperationsExecutor`` looks the request's action up in a table, runs it (under an overall
timeout when one is given), times it, and turns the expected failures — bad parameters
(``ValueError``), the client library's errors, a timeout — into a failed
:class:`ExecutionResult` instead of an exception. The PostgreSQL and Redis executors supply
their table and the error types of their client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from selfheal_ml.actions.base import ExecutionResult, RepairRequest

Operation = Callable[[RepairRequest], Awaitable[ExecutionResult]]


class OperationsExecutor:
    """Dispatch by action name, with timing and expected failures reported, not raised."""

    #: the client library's errors that mean "the operation failed", not "a bug"
    expected_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(
        self, name: str, operations: Mapping[str, Operation], timeout_s: float | None
    ) -> None:
        self._name = name
        self._operations = dict(operations)
        self._overall_timeout_s = timeout_s

    @property
    def name(self) -> str:
        return self._name

    @property
    def actions(self) -> tuple[str, ...]:
        """The action names this executor understands."""
        return tuple(self._operations)

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        run = self._operations.get(action.action)
        if run is None:
            return ExecutionResult.failed(f"{self.name} cannot run {action.action}")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._overall_timeout_s):
                result = await run(action)
        except ValueError as error:
            return ExecutionResult.failed(str(error))
        except TimeoutError:
            return ExecutionResult.failed(
                f"{action.action} timed out after {self._overall_timeout_s:g} s"
                if self._overall_timeout_s is not None
                else f"{action.action} failed: timed out",
                time.perf_counter() - started,
            )
        except self.expected_errors as error:
            return ExecutionResult.failed(
                f"{action.action} failed: {type(error).__name__}: {str(error).strip()}",
                time.perf_counter() - started,
            )
        return ExecutionResult(result.ok, result.detail, result.data, time.perf_counter() - started)
