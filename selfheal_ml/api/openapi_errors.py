"""The OpenAPI schema's security schemes and the error answers the service really gives.

FastAPI documents a 422 in its own shape (``{"detail": [...]}``) and no other error; ours
are shaped differently and come from several places. This adds to the generated schema:

- ``securitySchemes``: ``bearerAuth`` (the admin token) on every route that requires it, and
  ``bouncerKey`` (``X-Api-Key``) on the CrowdSec decision routes;
- 422 as the service answers it (``error``, ``field``, ``detail``);
- 401 on guarded routes, 429 (with ``Retry-After``) on the compute routes, 413 and 408 on
  routes that take a body, 503 where the runtime may not be started yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from selfheal_ml.api.route_marks import MarkedRoutes

_ANY: dict[str, Any] = {}
_FIELD_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "detail": _ANY,
    },
}
_HTTP_ERROR = {"type": "object", "required": ["detail"], "properties": {"detail": _ANY}}
# routes answer either shape: our handlers ``{"error", "field", "detail"}``, an HTTPException
# ``{"detail": ...}`` (whose detail is often ``{"error", "field"}``)
_ERROR = {
    "anyOf": [
        {"$ref": "#/components/schemas/FieldError"},
        {"$ref": "#/components/schemas/HTTPError"},
    ]
}
# CrowdSec's LAPI answer to a bouncer without a valid key
_BOUNCER_REFUSAL = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
SCHEMAS = {
    "FieldError": _FIELD_ERROR,
    "HTTPError": _HTTP_ERROR,
    "Error": _ERROR,
    "BouncerRefusal": _BOUNCER_REFUSAL,
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "SELFHEAL_ADMIN_TOKEN"},
    "bouncerKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
}


def _response(
    description: str, schema: str = "Error", headers: dict[str, Any] | None = None
) -> Any:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


UNAUTHORIZED = _response("Missing or invalid bearer token")
FORBIDDEN = _response("Missing or unknown X-Api-Key (CrowdSec's answer)", "BouncerRefusal")
TOO_MANY = _response(
    "Too many requests from this client",
    headers={"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
)
TOO_LARGE = _response("Request body too large")
TOO_SLOW = _response("Request body not received in time")
UNREADABLE = _response("The body cannot be decoded (not UTF-8, not the expected encoding)")
INVALID = _response("A field is invalid; `field` names it")
NOT_STARTED = _response("The runtime is not started")
#: for a route's ``responses=``: the ones that answer 404 naming the missing thing, or 409
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _response("Not found; `field` names it")}
NOT_PENDING: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: _response("No longer pending; `field` names it"),
}


def _needs_runtime(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if getattr(dependant.call, "__name__", "") == "get_runtime":
            return True
        stack.extend(dependant.dependencies)
    return False


def _operation_errors(
    route: APIRoute, method: str, compute: MarkedRoutes, guarded: MarkedRoutes
) -> tuple[dict[str, Any], bool, bool]:
    """The error answers of one operation, whether it is guarded, whether it is a bouncer's."""
    errors: dict[str, Any] = {}
    has_input = bool(route.dependant.body_params or route.dependant.query_params) or bool(
        route.dependant.path_params or route.dependant.header_params
    )
    if has_input or method in {"post", "put", "patch"}:
        errors["422"] = INVALID
    if method in {"post", "put", "patch"}:
        errors["413"], errors["408"] = TOO_LARGE, TOO_SLOW
        errors["400"] = UNREADABLE  # FastAPI's for a body it cannot decode, and raw-body routes
    is_guarded = route in guarded.routes
    if is_guarded:
        errors["401"] = UNAUTHORIZED
    if route in compute.routes:
        errors["429"] = TOO_MANY
    if _needs_runtime(route):
        errors["503"] = NOT_STARTED
    is_bouncer = route.path.startswith("/v1/decisions")
    if is_bouncer:
        errors["403"] = FORBIDDEN
    return errors, is_guarded, is_bouncer


def document_errors(
    app: FastAPI, routes: Sequence[BaseRoute], compute: MarkedRoutes, guarded: MarkedRoutes
) -> None:
    """Replace ``app.openapi`` by one that adds the security schemes and error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(SCHEMAS)
        components["securitySchemes"] = SECURITY_SCHEMES
        for route in routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in sorted(route.methods or ()):
                operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                errors, is_guarded, is_bouncer = _operation_errors(
                    route, method.lower(), compute, guarded
                )
                responses = operation.setdefault("responses", {})
                if "422" in responses:  # FastAPI's shape, not ours
                    errors["422"] = INVALID
                for status, answer in errors.items():
                    if status == "422" or status not in responses:
                        responses[status] = answer
                if is_guarded:
                    operation["security"] = [{"bearerAuth": []}]
                elif is_bouncer:
                    operation["security"] = [{"bouncerKey": []}]
        for name in ("HTTPValidationError", "ValidationError"):
            components["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
