"""HTTP to a running simulator and service: inject faults, read ground truth and what was done.

Thin on purpose: each method is one request and returns the decoded JSON, so the soak and the
live test read the same answers a person would with ``curl``. Admin routes send the bearer
token when one is given (``serve --dev`` needs none).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class LiveClient:
    """Speaks to the simulator (``sim_url``) and the service (``service_url``)."""

    def __init__(
        self,
        sim_url: str,
        service_url: str,
        admin_token: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.sim = httpx.Client(base_url=sim_url, timeout=timeout_s)
        self.service = httpx.Client(base_url=service_url, timeout=timeout_s, headers=headers)

    def inject(
        self,
        kind: str,
        platform: str | None,
        severity: float = 1.0,
        duration_s: float | None = None,
    ) -> str:
        """``POST /sim/faults``; the new fault's id (an error for a 4xx/5xx answer)."""
        body: dict[str, Any] = {"kind": kind, "platform": platform, "severity": severity}
        if duration_s is not None:
            body["duration_s"] = duration_s
        response = self.sim.post("/sim/faults", json=body)
        response.raise_for_status()
        return str(response.json()["fault_id"])

    def faults(self) -> list[dict[str, Any]]:
        """``GET /sim/faults``: the ground truth, active and past."""
        return list(self._json(self.sim, "/sim/faults")["faults"])

    def fault(self, fault_id: str) -> dict[str, Any]:
        """One fault of :meth:`faults` (``KeyError`` when the simulator has no such fault)."""
        for record in self.faults():
            if record["fault_id"] == fault_id:
                return record
        raise KeyError(fault_id)

    def incidents(self, limit: int = 1000) -> list[dict[str, Any]]:
        """``GET /v1/incidents``: newest first, each with its repair attempts."""
        return list(self._json(self.service, "/v1/incidents", limit=limit))

    def incident(self, incident_id: str) -> dict[str, Any]:
        """``GET /v1/incidents/{id}``."""
        return dict(self._json(self.service, f"/v1/incidents/{incident_id}"))

    def alerts(self, limit: int = 1000) -> list[dict[str, Any]]:
        """``GET /v1/alerts``: every recent alert, firing or resolved."""
        return list(self._json(self.service, "/v1/alerts", limit=limit))

    def anomalies(self, limit: int = 1000) -> list[dict[str, Any]]:
        """``GET /v1/anomalies``: recent anomalies, newest first."""
        return list(self._json(self.service, "/v1/anomalies", limit=limit))

    def audit(self, limit: int = 1000) -> list[dict[str, Any]]:
        """``GET /admin/repairs``: the repair audit log (refusals and approvals included)."""
        return list(self._json(self.service, "/admin/repairs", limit=limit))

    def pending(self) -> list[dict[str, Any]]:
        """``GET /admin/repairs/pending``: high-risk repairs waiting for a human."""
        return list(self._json(self.service, "/admin/repairs/pending"))

    def approve(self, approval_id: str, by: str = "live-soak") -> dict[str, Any]:
        """``POST /admin/repairs/{id}/approve`` as ``by``."""
        response = self.service.post(f"/admin/repairs/{approval_id}/approve", json={"by": by})
        response.raise_for_status()
        return dict(response.json())

    @staticmethod
    def _json(client: httpx.Client, path: str, **params: Any) -> Any:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.sim.close()
        self.service.close()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
