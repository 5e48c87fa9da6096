"""Enforcing ban decisions inside a user's web application.

:class:`BanMiddleware` is an ASGI middleware for FastAPI/Starlette apps: it refuses requests
from banned addresses with 403. It reads decisions from a :class:`DecisionSource`, either our
CrowdSec-compatible stream over HTTP (:class:`StreamDecisionSource`, what a separate app uses)
or the security store directly (:class:`StoreDecisionSource`, in the same process), and keeps
them in a :class:`BanCache` refreshed every ``ttl_s`` seconds in the background.
"""

from selfheal_ml.enforcement.cache import BanCache, DecisionUpdate
from selfheal_ml.enforcement.middleware import BanMiddleware
from selfheal_ml.enforcement.sources import (
    DecisionSource,
    StoreDecisionSource,
    StreamDecisionSource,
)

__all__ = [
    "BanCache",
    "BanMiddleware",
    "DecisionSource",
    "DecisionUpdate",
    "StoreDecisionSource",
    "StreamDecisionSource",
]
