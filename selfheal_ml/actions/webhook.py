"""Webhook executor: a repair is an HTTP call to something that knows how to do it.

The request goes out as JSON (``action``, ``target``, ``platform``, ``incident_id``,
``correlation_id``, ``params``) to one configured URL, within ``timeout_s``. A 2xx answer is
``ok``; another status, a timeout or a refused connection is ``ok=False`` with the reason.
The transport is injectable (``httpx.MockTransport`` in tests).

>>> import asyncio, httpx
>>> transport = httpx.MockTransport(lambda request: httpx.Response(202))
>>> executor = WebhookExecutor("ops-hook", "http://ops.invalid/repair", transport=transport)
>>> request = RepairRequest("inc-1", "corr-1", "webhook", "leadsite.ai")
>>> asyncio.run(executor.execute(request)).detail
'POST http://ops.invalid/repair answered 202'
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from selfheal_ml.actions.base import ExecutionResult, RepairRequest


def request_payload(request: RepairRequest) -> dict[str, Any]:
    """The JSON body describing ``request``."""
    return {
        "action": request.action,
        "target": request.target,
        "platform": request.platform,
        "incident_id": request.incident_id,
        "correlation_id": request.correlation_id,
        "params": dict(request.params),
    }


class WebhookExecutor:
    """POSTs each request to ``url`` (see module doc)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout_s: float = 5.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._name = name
        self.url = url
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self._transport = transport

    @property
    def name(self) -> str:
        return self._name

    async def execute(self, action: RepairRequest) -> ExecutionResult:
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout_s, transport=self._transport, headers=self.headers
            ) as client:
                response = await client.post(self.url, json=request_payload(action))
        except httpx.TimeoutException:
            return ExecutionResult.failed(
                f"POST {self.url} timed out after {self.timeout_s:g} s",
                time.perf_counter() - started,
            )
        except httpx.HTTPError as error:
            return ExecutionResult.failed(
                f"POST {self.url} failed: {type(error).__name__}: {error}",
                time.perf_counter() - started,
            )
        return ExecutionResult(
            ok=response.is_success,
            detail=f"POST {self.url} answered {response.status_code}",
            data={"status_code": response.status_code},
            duration_s=time.perf_counter() - started,
        )
