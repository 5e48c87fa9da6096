"""The one record every log format parses into.

A :class:`LogRecord` is one fact from a log line: who (source address, user, API key), what
(:class:`EventKind`: a failed or accepted login, an unknown account, an HTTP request), when,
and for requests the method, path, status and body. ``occurrences`` says how many identical events
the line stands for (syslog's ``message repeated N times``); ``raw`` keeps the line as evidence.

>>> from datetime import datetime, UTC
>>> record = LogRecord(
...     time=datetime(2026, 12, 10, 6, 55, 48, tzinfo=UTC),
...     kind=EventKind.LOGIN_FAILED,
...     source_ip="173.234.31.186",
...     user="webmaster",
...     unknown_user=True,
... )
>>> record.is_failure, record.occurrences
(True, 1)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class EventKind(StrEnum):
    """What a log line says happened."""

    LOGIN_FAILED = "login_failed"  # a password (or other method) was refused
    LOGIN_OK = "login_ok"  # a login was accepted
    INVALID_USER = "invalid_user"  # an unknown account was tried (sshd's "Invalid user")
    AUTH_FAILURE = "auth_failure"  # PAM's echo of a failure that sshd also logs itself
    REQUEST = "request"  # an HTTP request (access log or application log)


class LogRecord(NamedTuple):
    """One parsed log line (see the module docstring).

    Immutable; a named tuple rather than a frozen dataclass because building one is three
    times cheaper, and parsing builds one per line (the benchmark wants 100k lines/s).
    """

    time: datetime
    kind: EventKind
    source_ip: str = ""
    user: str = ""
    api_key: str = ""
    method: str = ""
    path: str = ""
    status: int = 0
    body: str = ""
    raw: str = ""
    occurrences: int = 1
    unknown_user: bool = False
    platform: str = ""  # the platform the line is about, when the log or the source says

    @property
    def is_failure(self) -> bool:
        """Whether the line is a refused login (what fail2ban's jails count)."""
        return self.kind is EventKind.LOGIN_FAILED
