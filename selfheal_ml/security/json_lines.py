"""JSON-lines application logs: one object per line, the fields an app knows best.

Documented fields (all optional but ``time``):

==========  ==================================================================
``time``    ISO 8601 / RFC 3339 (naive = UTC) or Unix seconds
``ip``      the client address
``user``    the account the request or login is for
``api_key`` the API key presented (or a stable digest of it)
``event``   ``login_failed``, ``login_ok``, ``invalid_user`` or ``request``
            (default: ``request`` when ``method`` or ``path`` is given)
``method``  HTTP method
``path``    path with query string
``status``  HTTP status code
``body``    request body (or the part worth scanning for injection)
``platform`` the platform (site, service) the line is about
==========  ==================================================================

Unknown fields are ignored; a line that is not a JSON object, or has no usable time or event,
is malformed.

>>> record = JsonLinesParser().parse(
...     '{"time": "2026-12-10T06:55:48Z", "ip": "198.51.100.7", "user": "bob",'
...     ' "event": "login_failed"}')
>>> record.kind.value, record.source_ip, record.time.isoformat()
('login_failed', '198.51.100.7', '2026-12-10T06:55:48+00:00')
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from selfheal_ml.security.outcomes import Skip
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.syslog_time import parse_rfc3339

_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.AUTH_FAILURE}


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        return parse_rfc3339(value)
    return None


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


_CACHE_LIMIT = 4096


class JsonLinesParser:
    """Parses JSON-lines application logs (fields in the module docstring)."""

    def __init__(self) -> None:
        self._decode = json.JSONDecoder().decode
        self._times: dict[str, datetime | None] = {}

    def _cached_time(self, value: Any) -> datetime | None:
        if not isinstance(value, str):
            return _time(value)
        if value not in self._times:
            if len(self._times) >= _CACHE_LIMIT:
                self._times.clear()
            self._times[value] = parse_rfc3339(value)
        return self._times[value]

    def parse(self, line: str) -> LogRecord | Skip:
        """One line: a record, or ``Skip.MALFORMED``."""
        try:
            item = self._decode(line)
        except ValueError:
            return Skip.MALFORMED
        if not isinstance(item, dict):
            return Skip.MALFORMED
        time = self._cached_time(item.get("time"))
        event = item.get("event")
        if event is None and ("method" in item or "path" in item):
            event = "request"
        kind = _KINDS.get(event) if isinstance(event, str) else None
        if time is None or kind is None:
            return Skip.MALFORMED
        status = item.get("status")
        return LogRecord(
            time=time,
            kind=kind,
            source_ip=_text(item, "ip"),
            user=_text(item, "user"),
            api_key=_text(item, "api_key"),
            method=_text(item, "method"),
            path=_text(item, "path"),
            status=status if isinstance(status, int) and not isinstance(status, bool) else 0,
            body=_text(item, "body"),
            raw=line,
            unknown_user=kind is EventKind.INVALID_USER,
            platform=_text(item, "platform"),
        )
