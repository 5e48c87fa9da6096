"""Which routes carry a given dependency, so middleware can act before FastAPI reads a body.

FastAPI reads and parses a request body before it runs the route's dependencies. The checks
that must come first (the admin token, the per-client limits) therefore run as ASGI
middleware, and this module tells them which requests they apply to: those whose route
depends, directly or through another dependency, on a marker such as ``require_admin``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def _depends_on(dependant: Dependant, marker: Callable[..., Any]) -> bool:
    return any(sub.call is marker or _depends_on(sub, marker) for sub in dependant.dependencies)


class MarkedRoutes:
    """The routes of an app that depend on ``marker``; ``matches(scope)`` for one request."""

    def __init__(self, routes: Iterable[BaseRoute], marker: Callable[..., Any]) -> None:
        self.routes = [
            route
            for route in routes
            if isinstance(route, APIRoute) and _depends_on(route.dependant, marker)
        ]

    def matches(self, scope: Scope) -> bool:
        """Does this HTTP request go to one of the marked routes (path and method)?"""
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)
