"""nginx / Apache access logs in the combined (or common) format.

``IP - user [10/Oct/2026:13:55:36 -0700] "GET /path?q=1 HTTP/1.1" 200 2326 "referer" "agent"``
becomes an :attr:`EventKind.REQUEST` record with method, path (query string included, as
logged) and status. The common format (no referer and agent) is accepted too. Lines that do
not fit are malformed.

>>> parser = CombinedParser()
>>> record = parser.parse(
...     '203.0.113.9 - alice [10/Oct/2026:13:55:36 -0700] "POST /login HTTP/1.1" 401 12'
...     ' "-" "curl/8.5"')
>>> record.source_ip, record.user, record.method, record.path, record.status
('203.0.113.9', 'alice', 'POST', '/login', 401)
>>> record.time.isoformat()
'2026-10-10T20:55:36+00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from selfheal_ml.security.outcomes import Skip
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.syslog_time import MONTHS

_LINE = re.compile(r'(\S+) \S+ (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) \S+')
_CACHE_LIMIT = 4096


def parse_clf_time(stamp: str) -> datetime | None:
    """``10/Oct/2026:13:55:36 -0700`` as aware UTC, or ``None`` when it is not one.

    >>> parse_clf_time("01/Jan/2027:00:00:01 +0000").isoformat()
    '2027-01-01T00:00:01+00:00'
    """
    month = MONTHS.get(stamp[3:6])
    if month is None or len(stamp) != 26 or stamp[2] != "/" or stamp[20] != " ":
        return None
    try:
        sign = -1 if stamp[21] == "-" else 1
        offset = timedelta(hours=int(stamp[22:24]), minutes=int(stamp[24:26])) * sign
        local = datetime(
            int(stamp[7:11]),
            month,
            int(stamp[0:2]),
            int(stamp[12:14]),
            int(stamp[15:17]),
            int(stamp[18:20]),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    return local.astimezone(UTC)


class CombinedParser:
    """Parses combined/common access-log lines into request records."""

    def __init__(self) -> None:
        self._times: dict[str, datetime | None] = {}

    def parse(self, line: str) -> LogRecord | Skip:
        """One line: a request record, or ``Skip.MALFORMED``."""
        match = _LINE.match(line)
        if match is None:
            return Skip.MALFORMED
        address, user, stamp, request, status = match.groups()
        if stamp in self._times:
            time = self._times[stamp]
        else:
            if len(self._times) >= _CACHE_LIMIT:
                self._times.clear()
            time = self._times[stamp] = parse_clf_time(stamp)
        if time is None:
            return Skip.MALFORMED
        method, _, rest = request.partition(" ")
        path = (
            rest.rpartition(" ")[0] if rest.endswith(("HTTP/1.0", "HTTP/1.1", "HTTP/2.0")) else rest
        )
        return LogRecord(
            time=time,
            kind=EventKind.REQUEST,
            source_ip=address,
            user="" if user == "-" else user,
            method=method,
            path=path,
            status=int(status),
            raw=line,
        )
