"""Dependencies shared by the routes, as ``Annotated`` aliases so handlers read like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from selfheal_ml.api.bearer import CHALLENGE, refusal, token_accepted
from selfheal_ml.api.compute import ComputePool
from selfheal_ml.config import Limits
from selfheal_ml.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        raise HTTPException(status_code=503, detail="runtime not started")
    return runtime


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """``Authorization: Bearer <SELFHEAL_ADMIN_TOKEN>`` (scheme in any case), compared in
    constant time. :mod:`selfheal_ml.api.early_auth` refuses a request without it before its
    body is read; this dependency marks the routes for it and documents the header."""
    token = request.app.state.settings.admin_token  # None: --dev, open, warned at start-up
    if not token_accepted(token, authorization):
        raise HTTPException(status_code=401, detail=refusal(authorization), headers=CHALLENGE)


def compute_pool(request: Request) -> ComputePool:
    """The worker threads for compute work. Depending on it also marks the route as a compute
    route, whose anonymous callers :mod:`selfheal_ml.api.client_limits` limits per address."""
    pool: ComputePool = request.app.state.compute_pool
    return pool


def limits(request: Request) -> Limits:
    """The ``[limits]`` settings."""
    chosen: Limits = request.app.state.settings.limits
    return chosen


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
AdminDep = Annotated[None, Depends(require_admin)]
ComputeDep = Annotated[ComputePool, Depends(compute_pool)]
LimitsDep = Annotated[Limits, Depends(limits)]
