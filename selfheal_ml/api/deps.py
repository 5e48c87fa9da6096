"""Dependencies shared by the routes, as ``Annotated`` aliases so handlers read like prose."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from selfheal_ml.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        raise HTTPException(status_code=503, detail="runtime not started")
    return runtime


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """``Authorization: Bearer <SELFHEAL_ADMIN_TOKEN>``, compared in constant time."""
    token = request.app.state.settings.admin_token
    if token is None:  # --dev without a token: open, warned about at start-up
        return
    expected = f"Bearer {token.get_secret_value()}".encode()
    given = (authorization or "").encode()
    if not hmac.compare_digest(expected, given):
        problem = "missing" if authorization is None else "invalid"
        raise HTTPException(
            status_code=401,
            detail={
                "error": f"header.Authorization: {problem} bearer token",
                "field": "header.Authorization",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
AdminDep = Annotated[None, Depends(require_admin)]
