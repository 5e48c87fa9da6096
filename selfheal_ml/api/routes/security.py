"""Our own security view and the push endpoint for application events.

- ``GET /v1/security/decisions``: the bans in force (dry-run ones marked ``would_ban``) with
  their reason, evidence and expiry: what the dashboard and an operator read.
- ``POST /v1/security/events`` (admin token): a batch of application events with the fields of
  the JSON-lines format (docs/security.md), fed to the Security agent's detector exactly as
  lines of a tailed file would be. A batch larger than ``security.max_event_batch`` events or
  ``security.max_event_batch_bytes`` bytes gets 413; a bad field a 422 naming it
  (``body[3].ip``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from selfheal_ml.api.deps import AdminDep, RuntimeDep
from selfheal_ml.runtime import AgentUnavailableError
from selfheal_ml.security.ban_policy import BanDecision
from selfheal_ml.security.records import EventKind, LogRecord

router = APIRouter(tags=["security"])

TEXT_LIMIT = 8192


class AppEvent(BaseModel):
    """One application event: the JSON-lines fields (unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    time: datetime | float
    ip: str = ""
    user: str = Field(default="", max_length=256)
    api_key: str = Field(default="", max_length=256)
    event: Literal["login_failed", "login_ok", "invalid_user", "request"] | None = None
    method: str = Field(default="", max_length=16)
    path: str = Field(default="", max_length=TEXT_LIMIT)
    status: int = Field(default=0, ge=0, le=599)
    body: str = Field(default="", max_length=TEXT_LIMIT)

    @field_validator("ip")
    @classmethod
    def _address(cls, value: str) -> str:
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError as exc:
                raise ValueError(f"expected an IPv4 or IPv6 address, got {value!r}") from exc
        return value

    @field_validator("time")
    @classmethod
    def _finite_time(cls, value: datetime | float) -> datetime | float:
        if isinstance(value, float) and not 0 <= value < 1e11:
            raise ValueError(f"expected Unix seconds or an ISO 8601 time, got {value!r}")
        return value

    def kind(self) -> EventKind:
        """The event kind (``request`` when a method or path is given and no event)."""
        if self.event is not None:
            return EventKind(self.event)
        if self.method or self.path:
            return EventKind.REQUEST
        raise ValueError("event: required when neither method nor path is given")

    def record(self) -> LogRecord:
        """The record the detector counts (naive times are UTC)."""
        if isinstance(self.time, datetime):
            at = self.time if self.time.tzinfo else self.time.replace(tzinfo=UTC)
        else:
            at = datetime.fromtimestamp(self.time, UTC)
        kind = self.kind()
        return LogRecord(
            time=at.astimezone(UTC),
            kind=kind,
            source_ip=self.ip,
            user=self.user,
            api_key=self.api_key,
            method=self.method,
            path=self.path,
            status=self.status,
            body=self.body,
            raw=json.dumps(self.model_dump(mode="json", exclude_defaults=True)),
            unknown_user=kind is EventKind.INVALID_USER,
        )


def _too_large(detail: str) -> HTTPException:
    return HTTPException(status_code=413, detail={"error": detail, "field": "body"})


def _records(events: list[Any], limit: int) -> list[LogRecord]:
    if not isinstance(events, list):
        raise HTTPException(
            status_code=422,
            detail={"error": "body: expected a JSON array of events", "field": "body"},
        )
    if len(events) > limit:
        raise _too_large(f"body: {len(events)} events, at most {limit} per batch")
    records = []
    for index, item in enumerate(events):
        field = f"body[{index}]"
        try:
            event = AppEvent.model_validate(item)
            records.append(event.record())
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            errors = getattr(exc, "errors", None)
            if callable(errors) and errors():
                first = errors()[0]
                field += f".{first['loc'][0]}"  # flat fields; a union adds its member's name
                message = str(first["msg"])
            else:
                where, _, message = str(exc).partition(": ")
                field += f".{where}"
            raise HTTPException(
                status_code=422, detail={"error": f"{field}: {message}", "field": field}
            ) from exc
    return sorted(records, key=lambda record: record.time)


@router.post("/v1/security/events", status_code=202)
async def push_events(request: Request, runtime: RuntimeDep, _: AdminDep) -> dict[str, int]:
    """Detect on a batch of application events; how many were accepted and how many
    security events (findings, blocks) they led to."""
    settings = runtime.settings.security
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > settings.max_event_batch_bytes
    ):
        raise _too_large(f"body: {declared} bytes, at most {settings.max_event_batch_bytes}")
    raw = await request.body()
    if len(raw) > settings.max_event_batch_bytes:
        raise _too_large(f"body: {len(raw)} bytes, at most {settings.max_event_batch_bytes}")
    try:
        events = json.loads(raw)
    except ValueError as exc:
        raise HTTPException(
            status_code=422, detail={"error": f"body: invalid JSON ({exc})", "field": "body"}
        ) from exc
    records = _records(events, settings.max_event_batch)
    try:
        published = await runtime.observe_security(records)
    except AgentUnavailableError as exc:
        raise HTTPException(status_code=503, detail={"error": str(exc)}) from exc
    return {"accepted": len(records), "published": published}


def _view(decision: BanDecision) -> dict[str, Any]:
    return {
        "ip": decision.value,
        "action": decision.action.value,
        "reason": decision.reason.value,
        "decided_at": decision.decided_at.isoformat(),
        "until": decision.until.isoformat(),
        "duration_s": decision.duration_s,
        "offence": decision.offence,
        "first_seen": decision.first_seen.isoformat(),
        "event_count": decision.event_count,
        "evidence": list(decision.evidence),
        "origin": decision.origin,
    }


@router.get("/v1/security/decisions")
async def active_decisions(runtime: RuntimeDep, _: AdminDep) -> list[dict[str, Any]]:
    """The bans in force now, newest first, each with its reason, evidence and expiry."""
    now = runtime.clock.now()
    found = await asyncio.to_thread(runtime.security.active_decisions, now)
    return [_view(decision) for decision in found]
