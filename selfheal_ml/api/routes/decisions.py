"""CrowdSec's Local API for bouncers, over our ban decisions (docs/security.md).

``GET /v1/decisions/stream`` and ``GET /v1/decisions`` answer as CrowdSec's LAPI does, so an
existing bouncer (``crowdsec-firewall-bouncer``, nginx, Traefik) pointed at this service
enforces our bans. Bouncers authenticate with ``X-Api-Key`` (keys from
``security.bouncer_api_keys``); a missing or unknown key gets 403 ``{"message": "access
forbidden"}``, CrowdSec's answer. The field mapping and the per-bouncer delta are the pure
:mod:`selfheal_ml.security.bouncer_stream`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from selfheal_ml.api.deps import RuntimeDep
from selfheal_ml.security.ban_policy import BanDecision
from selfheal_ml.security.bouncer_stream import BouncerStream, crowdsec_decision, matching

router = APIRouter(tags=["decisions"])

FORBIDDEN = {"message": "access forbidden"}


class BouncerRefusedError(Exception):
    """No valid ``X-Api-Key``: answered with CrowdSec's 403."""


async def bouncer_refused(request: Request, exc: Exception) -> JSONResponse:
    """The LAPI's answer to a bouncer without a valid key."""
    return JSONResponse(status_code=403, content=FORBIDDEN)


def require_bouncer(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> str:
    """The calling bouncer's identity (a digest of its key, never the key itself)."""
    keys = request.app.state.settings.security.bouncer_api_keys
    given = (x_api_key or "").encode()
    known = any(hmac.compare_digest(key.get_secret_value().encode(), given) for key in keys)
    if x_api_key is None or not known:
        raise BouncerRefusedError
    return hashlib.sha256(given).hexdigest()[:16]


BouncerDep = Annotated[str, Depends(require_bouncer)]


def bouncer_stream(request: Request) -> BouncerStream:
    """The app's one :class:`BouncerStream` (what each bouncer has been sent)."""
    stream: BouncerStream = request.app.state.bouncer_stream
    return stream


async def _active(runtime: RuntimeDep) -> list[BanDecision]:
    now = runtime.clock.now()
    return await asyncio.to_thread(runtime.security.active_decisions, now)


@router.get("/v1/decisions/stream")
async def decisions_stream(
    runtime: RuntimeDep,
    bouncer: BouncerDep,
    stream: Annotated[BouncerStream, Depends(bouncer_stream)],
    startup: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """``startup=true``: every ban in force as ``new``; otherwise what changed since this
    bouncer's previous pull (``new`` bans, ``deleted`` expired ones)."""
    active = await _active(runtime)
    return stream.pull(bouncer, active, runtime.clock.now(), startup=startup).as_json()


@router.get("/v1/decisions")
async def decisions(
    runtime: RuntimeDep,
    _: BouncerDep,
    ip: str | None = None,
    scope: str | None = None,
    value: str | None = None,
    type: str | None = Query(default=None),  # CrowdSec's parameter name
) -> list[dict[str, Any]] | None:
    """The bans in force for ``ip`` (or ``scope=ip&value=``; all without a filter), or
    ``null`` when there are none, as the LAPI answers."""
    now = runtime.clock.now()
    active = await _active(runtime)
    chosen = [d for d in active if d.enforced and d.active_at(now)]
    address = ip if ip is not None else (value if (scope or "").lower() == "ip" else None)
    if address is not None:
        chosen = matching(chosen, address, now)
    elif scope is not None and scope.lower() != "ip":
        chosen = []  # we only decide about addresses
    if type is not None and type != "ban":
        chosen = []
    return [crowdsec_decision(d, now) for d in chosen] or None


@router.head("/v1/decisions/stream")
@router.head("/v1/decisions")
async def check_key(_: BouncerDep) -> None:
    """HEAD, as bouncers use it to check their key: 200 or 403, no body; the stream's
    cursor does not move (CrowdSec's HEAD does not update the last pull either)."""
