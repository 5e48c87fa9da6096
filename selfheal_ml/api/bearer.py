"""The admin bearer token check, shared by the route dependency and the early-auth middleware.

The scheme name is case-insensitive (RFC 9110 section 11.1: ``Bearer``, ``bearer`` and
``BEARER`` are the same scheme); the token itself is compared in constant time.

>>> from pydantic import SecretStr
>>> token_accepted(SecretStr("s3cret"), "bearer s3cret"), token_accepted(SecretStr("s3cret"), "Bearer nope")
(True, False)
>>> token_accepted(None, None)
True
"""  # noqa: E501

from __future__ import annotations

import hmac
from typing import Any

from pydantic import SecretStr

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def token_accepted(token: SecretStr | None, authorization: str | None) -> bool:
    """Does ``authorization`` carry ``token``? (No token configured: --dev, always yes.)"""
    if token is None:
        return True
    scheme, _, given = (authorization or "").strip().partition(" ")
    expected = token.get_secret_value().encode()
    same = hmac.compare_digest(expected, given.strip().encode())
    return scheme.lower() == "bearer" and same


def refusal(authorization: str | None) -> dict[str, Any]:
    """The 401 body naming the header and whether it was missing or wrong."""
    problem = "missing" if authorization is None else "invalid"
    return {
        "error": f"header.Authorization: {problem} bearer token",
        "field": "header.Authorization",
    }
