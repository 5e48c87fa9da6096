"""The admin token, checked before the request body is read.

FastAPI parses a body before it runs a route's dependencies, so without this an anonymous
client could make an admin route read and parse megabytes before being told 401. This
middleware answers 401 (the same body and challenge as
:func:`~selfheal_ml.api.deps.require_admin`) for every request to a route that depends on
``require_admin`` and carries no valid token, before the route starts.
"""

from __future__ import annotations

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from selfheal_ml.api.bearer import CHALLENGE, refusal, token_accepted
from selfheal_ml.api.body_limit import send_json
from selfheal_ml.api.route_marks import MarkedRoutes


def authorization_of(scope: Scope) -> str | None:
    """The request's ``Authorization`` header, if any."""
    value = dict(scope["headers"]).get(b"authorization")
    return None if value is None else value.decode("latin-1")


class EarlyAuthMiddleware:
    """401 for guarded routes without a valid bearer token, before the body is read."""

    def __init__(self, app: ASGIApp, token: SecretStr | None, guarded: MarkedRoutes) -> None:
        self.app = app
        self.token = token
        self.guarded = guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token is not None and self.guarded.matches(scope):
            authorization = authorization_of(scope)
            if not token_accepted(self.token, authorization):
                await send_json(send, 401, {"detail": refusal(authorization)}, CHALLENGE)
                return
        await self.app(scope, receive, send)
