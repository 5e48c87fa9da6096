"""Builders for security records on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selfheal_ml.security.records import EventKind, LogRecord

START = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``START`` plus ``seconds``."""
    return START + timedelta(seconds=seconds)


def failure(seconds: float, ip: str, user: str = "root", *, unknown: bool = False) -> LogRecord:
    """A failed login."""
    return LogRecord(
        at(seconds),
        EventKind.LOGIN_FAILED,
        source_ip=ip,
        user=user,
        raw=f"fail {user} {ip}",
        unknown_user=unknown,
    )


def request(
    seconds: float, ip: str, path: str = "/", *, status: int = 200, api_key: str = ""
) -> LogRecord:
    """An HTTP request."""
    return LogRecord(
        at(seconds),
        EventKind.REQUEST,
        source_ip=ip,
        method="GET",
        path=path,
        status=status,
        api_key=api_key,
        raw=f"GET {path} {ip}",
    )
