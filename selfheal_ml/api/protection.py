"""The request protections of the API, installed in one place (docs/hardening.md).

From the outside in: the admin token is checked before a body is read
(:mod:`~selfheal_ml.api.early_auth`); anonymous callers of the compute routes are limited per
address (:mod:`~selfheal_ml.api.client_limits`); every body is limited in size and arrival
time while it streams (:mod:`~selfheal_ml.api.body_limit`); compute work runs in a small
pool of worker threads (:mod:`~selfheal_ml.api.compute`). The OpenAPI schema declares the
bearer scheme and the error answers these give (:mod:`~selfheal_ml.api.openapi_errors`).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.routing import BaseRoute

from selfheal_ml.api.body_limit import BodyLimitMiddleware
from selfheal_ml.api.client_limits import ClientLimiter, ClientLimitMiddleware
from selfheal_ml.api.compute import ComputePool
from selfheal_ml.api.deps import compute_pool, require_admin
from selfheal_ml.api.early_auth import EarlyAuthMiddleware
from selfheal_ml.api.openapi_errors import document_errors
from selfheal_ml.api.route_marks import MarkedRoutes
from selfheal_ml.config import Settings

#: routes that read their body with a streamed size limit of their own and count refusals
OWN_LIMIT_PATHS = frozenset({"/api/v1/write"})


def add_protection(app: FastAPI, settings: Settings, routes: Sequence[BaseRoute]) -> None:
    """Install the limits of ``settings.limits`` on ``app``, whose ``routes`` are those of the
    routers it includes (as declared: how FastAPI nests included routes varies by version)."""
    limits = settings.limits
    token = settings.admin_token
    app.state.compute_pool = ComputePool(limits.compute_threads, limits.compute_processes)
    app.state.client_limiter = ClientLimiter(
        limits.client_rate_per_s, limits.client_burst, limits.client_concurrency
    )
    compute = MarkedRoutes(routes, compute_pool)
    guarded = MarkedRoutes(routes, require_admin)
    # add_middleware puts each one outside the previous: the last added runs first
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=limits.max_body_bytes,
        timeout_s=limits.body_timeout_s,
        own_limit_paths=OWN_LIMIT_PATHS,  # remote write: remote_write.max_body_bytes, streamed
    )
    app.add_middleware(
        ClientLimitMiddleware,
        limiter=app.state.client_limiter,
        compute=compute,
        token=token,
        refusal_delay_s=limits.client_refusal_delay_s,
    )
    app.add_middleware(EarlyAuthMiddleware, token=token, guarded=guarded)
    document_errors(app, routes, compute=compute, guarded=guarded)
