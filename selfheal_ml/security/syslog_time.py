"""Syslog timestamps: ``Dec 10 06:55:46`` has no year, so one is inferred.

The first line takes its year from a reference time (when the file was written, or now): a
month later than the reference's month belongs to the previous year (a December log read in
January). After that the year only moves forward, when the month wraps from December (or
late in the year) back to January. RFC 3339 timestamps (rsyslog's high-precision format) are
read as they are. Times without a zone are taken as UTC.

>>> from datetime import datetime, UTC
>>> clock = SyslogTime(datetime(2027, 1, 3, tzinfo=UTC))
>>> clock.parse("Dec 31 23:59:58").isoformat()
'2026-12-31T23:59:58+00:00'
>>> clock.parse("Jan  1 00:00:01").isoformat()
'2027-01-01T00:00:01+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_CACHE_LIMIT = 4096


class SyslogTime:
    """Turns the 15-character syslog stamp into an aware UTC datetime, inferring the year."""

    def __init__(self, reference: datetime) -> None:
        self.reference = reference
        self._year: int | None = None
        self._last_month = 0
        self._cache: dict[str, datetime] = {}

    def parse(self, stamp: str) -> datetime | None:
        """The time of ``stamp`` (``"Mmm dd hh:mm:ss"``), or ``None`` when it is not one."""
        cached = self._cache.get(stamp)
        if cached is not None:
            return cached
        month = MONTHS.get(stamp[:3])
        if month is None or len(stamp) != 15 or stamp[3] != " " or stamp[6] != " ":
            return None
        try:
            day = int(stamp[4:6])
            hour, minute, second = int(stamp[7:9]), int(stamp[10:12]), int(stamp[13:15])
            parsed = datetime(self._year_for(month), month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[stamp] = parsed
        return parsed

    def _year_for(self, month: int) -> int:
        if self._year is None:
            self._year = self.reference.year - (1 if month > self.reference.month else 0)
        elif month < self._last_month and self._last_month - month > 6:
            self._year += 1
            self._cache.clear()
        self._last_month = month
        return self._year


def parse_rfc3339(stamp: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as aware UTC (naive times are taken as UTC), or ``None``.

    >>> parse_rfc3339("2026-12-10T06:55:46.5+01:00").isoformat()
    '2026-12-10T05:55:46.500000+00:00'
    """
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
