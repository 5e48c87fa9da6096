"""OpenSSH and PAM lines from syslog (``/var/log/auth.log``, ``secure``, journald exports).

Recognised messages (fail2ban's sshd filter counts the same ones):

- ``Failed password for [invalid user] X from IP port N ssh2`` (any method but ``publickey``,
  which is a client trying its keys, not a failure): :attr:`EventKind.LOGIN_FAILED`;
- ``Accepted password|publickey for X from IP port N``: :attr:`EventKind.LOGIN_OK`;
- ``Invalid user X from IP``: :attr:`EventKind.INVALID_USER`;
- ``message repeated N times: [ ... ]``: the inner message, counted N times;
- ``pam_unix(...): authentication failure; ... rhost=HOST user=X`` and
  ``PAM N more authentication failures; ... rhost=HOST``.

In an sshd log PAM repeats what sshd says itself, so :class:`SshdParser` reads PAM lines as
:attr:`EventKind.AUTH_FAILURE` (kept, never counted); :class:`PamParser` reads only PAM lines
and counts them as failed logins. Any other well-formed syslog line is ignored; a line with
no syslog header is malformed.

>>> from datetime import datetime, UTC
>>> parser = SshdParser(datetime(2026, 12, 31, tzinfo=UTC))
>>> record = parser.parse(
...     "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster"
...     " from 173.234.31.186 port 38926 ssh2")
>>> record.kind.value, record.user, record.source_ip, record.unknown_user
('login_failed', 'webmaster', '173.234.31.186', True)
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime

from selfheal_ml.security.outcomes import Skip
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.syslog_time import SyslogTime, parse_rfc3339

_FAILED = re.compile(r"Failed (\S+) for (invalid user )?(.*?) from (\S+)(?: port \d+)?")
_ACCEPTED = re.compile(r"Accepted \S+ for (.*?) from (\S+)")
_INVALID = re.compile(r"(?:Invalid|Illegal) user (.*?) from (\S+)")
_REPEATED = re.compile(r"message repeated (\d+) times: \[ ?(.*?)\]?\s*$")
_PAM_MORE = re.compile(r"PAM (\d+) more authentication failures?;")
_RHOST = re.compile(r"\brhost=(\S*)")
_PAM_USER = re.compile(r"\suser=(\S+)")

Outcome = LogRecord | Skip


def split_syslog(line: str, clock: SyslogTime) -> tuple[datetime, str, str] | None:
    """``(time, program, message)`` of a syslog line, or ``None`` when it has no header.

    Accepts the classic ``Mmm dd hh:mm:ss host prog[pid]: msg`` and the RFC 3339 variant.
    """
    if line[:1].isdigit():
        stamp, _, rest = line.partition(" ")
        time = parse_rfc3339(stamp)
    else:
        time = clock.parse(line[:15])
        rest = line[16:]
    if time is None:
        return None
    _host, _, rest = rest.partition(" ")
    program, separator, message = rest.partition(": ")
    if not separator:
        return None
    return time, program.partition("[")[0], message


def _time_and_message(line: str, clock: SyslogTime) -> tuple[datetime, str] | None:
    """The hot path of :func:`split_syslog`: the classic header, host and program skipped."""
    if line[:1].isdigit():
        header = split_syslog(line, clock)
        return None if header is None else (header[0], header[2])
    time = clock.parse(line[:15])
    end = line.find(": ", 16)
    if time is None or end < 0 or line.find(" ", 16, end) < 0:
        return None
    return time, line[end + 2 :]


def _pam_failure(time: datetime, message: str, line: str, kind: EventKind) -> Outcome:
    more = _PAM_MORE.match(message)
    if not more and not (message.startswith("pam_unix(") and "authentication failure" in message):
        return Skip.IGNORED
    rhost = _RHOST.search(message)
    user = _PAM_USER.search(message)
    return LogRecord(
        time=time,
        kind=kind,
        source_ip=rhost.group(1) if rhost else "",
        user=user.group(1) if user else "",
        raw=line,
        occurrences=int(more.group(1)) if more else 1,
    )


class SyslogParser(ABC):
    """A syslog file's lines: the stamp (year inferred) and message, then :meth:`record`."""

    def __init__(self, reference: datetime) -> None:
        self.clock = SyslogTime(reference)

    def parse(self, line: str) -> Outcome:
        """One line: a record, or why there is none."""
        header = _time_and_message(line, self.clock)
        if header is None:
            return Skip.MALFORMED
        return self.record(header[0], header[1], line)

    @abstractmethod
    def record(self, time: datetime, message: str, line: str) -> Outcome:
        """The record of one message (each syslog format says which messages count)."""


class SshdParser(SyslogParser):
    """Parses sshd's messages (and PAM's echoes of them) from a syslog file."""

    def record(self, time: datetime, message: str, line: str) -> Outcome:
        """A failed, invalid or accepted login (``message repeated N times`` counts N)."""
        return self._message(time, message, line, 1)

    def _message(self, time: datetime, message: str, line: str, occurrences: int) -> Outcome:
        first = message[:1]
        if first == "F" and message.startswith("Failed "):
            failed = _FAILED.match(message)
            if failed is None or failed.group(1) == "publickey":
                return Skip.IGNORED
            return LogRecord(
                time=time,
                kind=EventKind.LOGIN_FAILED,
                source_ip=failed.group(4),
                user=failed.group(3),
                raw=line,
                occurrences=occurrences,
                unknown_user=failed.group(2) is not None,
            )
        if first == "A" and message.startswith("Accepted "):
            accepted = _ACCEPTED.match(message)
            if accepted is None:
                return Skip.IGNORED
            return LogRecord(
                time=time,
                kind=EventKind.LOGIN_OK,
                source_ip=accepted.group(2),
                user=accepted.group(1),
                raw=line,
            )
        if first in "IL":
            invalid = _INVALID.match(message)
            if invalid is None:
                return Skip.IGNORED
            return LogRecord(
                time=time,
                kind=EventKind.INVALID_USER,
                source_ip=invalid.group(2),
                user=invalid.group(1),
                raw=line,
                occurrences=occurrences,
                unknown_user=True,
            )
        if first == "m" and message.startswith("message repeated "):
            repeated = _REPEATED.match(message)
            if repeated is None:
                return Skip.IGNORED
            return self._message(time, repeated.group(2), line, int(repeated.group(1)))
        if first == "p" or first == "P":
            return _pam_failure(time, message, line, EventKind.AUTH_FAILURE)
        return Skip.IGNORED


class PamParser(SyslogParser):
    """Parses only PAM authentication failures (any service: sshd, su, login, vsftpd ...)."""

    def record(self, time: datetime, message: str, line: str) -> Outcome:
        """A failed-login record, or why there is none."""
        return _pam_failure(time, message, line, EventKind.LOGIN_FAILED)
