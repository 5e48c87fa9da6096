"""Simulator executor: repairs the live simulator through ``POST /sim/actions``.

The simulator's actions are its ``RepairAction`` values (``restart_service``,
``reset_db_connections``, ``add_index``, ...), applied to one platform: the request's
``platform``. A 200 answer is ``ok``, whether or not the action ended a fault (``data["fixed"]``
says; the Repair agent verifies recovery on the signal anyway). A 422 (unknown action or
platform), another status, a timeout or a refused connection is ``ok=False``.

>>> import asyncio, httpx
>>> answer = {"action": "clear_cache", "platform": "p1", "fixed": True, "fault_ids": ["f1"],
...           "cost": 1.0}
>>> transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
>>> executor = SimulatorExecutor("http://sim.invalid", transport=transport)
>>> result = asyncio.run(executor.execute(RepairRequest("i", "c", "clear_cache", "p1")))
>>> result.ok, result.data["fixed"]
(True, True)
"""

from __future__ import annotations

import time

import httpx

from selfheal_ml.actions.base import ExecutionResult, RepairRequest


class SimulatorExecutor:
    """Applies requests to the simulator served at ``base_url`` (see module doc)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "simulator",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._transport = transport
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        started = time.perf_counter()
        body = {"platform": action.platform, "action": action.action}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_s, transport=self._transport
            ) as client:
                response = await client.post("/sim/actions", json=body)
        except httpx.HTTPError as error:
            return ExecutionResult.failed(
                f"simulator at {self.base_url} unreachable: {type(error).__name__}: {error}",
                time.perf_counter() - started,
            )
        elapsed_s = time.perf_counter() - started
        if response.status_code != 200:
            return ExecutionResult.failed(
                f"simulator refused {action.action} on {action.platform}:"
                f" {response.status_code} {response.text[:200]}",
                elapsed_s,
            )
        data = response.json()
        fixed = bool(data.get("fixed"))
        detail = f"{action.action} on {action.platform}: " + (
            f"ended faults {', '.join(data.get('fault_ids', []))}" if fixed else "ended no fault"
        )
        return ExecutionResult(ok=True, detail=detail, data=data, duration_s=elapsed_s)
