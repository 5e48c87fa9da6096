"""Simulator executors: the live simulator through ``POST /sim/actions``, or one in this process.

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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from selfheal_ml.actions.base import ExecutionResult, RepairRequest
from selfheal_ml.errors import SelfHealError

if TYPE_CHECKING:  # the simulator (pandas) is imported by whoever builds one
    from selfheal_ml.sim import PlatformSimulator


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


@dataclass(frozen=True)
class AppliedAction:
    """One action the in-process simulator executed, with the ground truth the benchmark needs:
    whether any fault affected the platform when it ran (else: a repair on a healthy target)."""

    ts: datetime
    incident_id: str
    platform: str
    action: str
    fixed: bool
    target_had_fault: bool


class InProcessSimulatorExecutor:
    """Applies requests to a :class:`~selfheal_ml.sim.PlatformSimulator` in this process: the
    demo's and the chaos benchmark's executor, where the simulator runs in virtual time.
    ``applied`` lists every action run, with the ground truth of :class:`AppliedAction`.

    >>> import asyncio
    >>> from datetime import UTC, datetime
    >>> from selfheal_ml.sim import PlatformSimulator
    >>> simulator = PlatformSimulator(seed=1, start=datetime(2026, 1, 5, tzinfo=UTC))
    >>> executor = InProcessSimulatorExecutor(simulator)
    >>> request = RepairRequest("i", "c", "clear_cache", "redis", platform="tackle.io")
    >>> result = asyncio.run(executor.execute(request))
    >>> result.ok, result.data["fixed"]
    (True, False)
    >>> asyncio.run(executor.execute(RepairRequest("i", "c", "clear_cache", "redis"))).ok
    False
    """

    def __init__(self, simulator: PlatformSimulator, name: str = "simulator") -> None:
        self.simulator = simulator
        self._name = name
        self.applied: list[AppliedAction] = []

    @property
    def name(self) -> str:
        return self._name

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        started = time.perf_counter()
        had_fault = any(
            action.platform in fault.platforms for fault in self.simulator.faults(active_only=True)
        )
        try:
            result = self.simulator.apply_action(action.platform, action.action)
        except SelfHealError as error:
            return ExecutionResult.failed(str(error), time.perf_counter() - started)
        self.applied.append(
            AppliedAction(
                self.simulator.now(),
                action.incident_id,
                action.platform,
                action.action,
                result.fixed,
                had_fault,
            )
        )
        detail = f"{action.action} on {action.platform}: " + (
            f"ended faults {', '.join(result.fault_ids)}" if result.fixed else "ended no fault"
        )
        data = {
            "fixed": result.fixed,
            "fault_ids": list(result.fault_ids),
            "cost": result.cost,
            "target_had_fault": had_fault,
        }
        return ExecutionResult(
            True, f"{detail}; {result.cost}", data, time.perf_counter() - started
        )
