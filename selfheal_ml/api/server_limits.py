"""The uvicorn settings that keep slow or idle clients from holding the server.

- ``timeout_keep_alive``: an idle keep-alive connection is closed after this many seconds;
- ``limit_concurrency``: past this many open connections and tasks, new requests get 503
  at once instead of queueing without bound;
- ``h11_max_incomplete_event_size``: request line and headers larger than this are refused
  (a client cannot make the server buffer an endless header).

A body that arrives too slowly is cut off by :mod:`~selfheal_ml.api.body_limit` (408).

>>> from selfheal_ml.config import Limits
>>> server_limits(Limits())["timeout_keep_alive"]
5
"""

from __future__ import annotations

from typing import Any

from selfheal_ml.config import Limits

MAX_HEADER_BYTES = 64 * 1024


def server_limits(limits: Limits) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config``."""
    return {
        "timeout_keep_alive": limits.keep_alive_timeout_s,
        "limit_concurrency": limits.max_connections,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
