"""A young series' change of level: how many times its value now is its level minutes earlier.

A detector that has watched a series for minutes has no band a surge could not have joined:
the service started against a healthy simulator, the traffic of one platform went from 12 to
115 requests/s in two minutes, and the detector's first band, learnt on that ramp, spread from
-164 to 192 (live, ``serve`` 90 s after start). The errors the surge caused alerted at once,
and the diagnosis, with no rise of the traffic to read, restarted a platform that had not
crashed. Monitoring tools answer a young series with a change alert (Datadog's *change*
monitor: the value now against the value N minutes ago); so does the diagnosis here, for
series younger than :data:`YOUNG_SERIES` only. An older series has a band learnt on more than
its last minutes, read by :func:`~selfheal_ml.diagnosis.observations.from_band_breach`.

The earlier level is a low quartile (of the values between :data:`CHANGE_WINDOW` and
:data:`RAMP_GUARD` ago), so that a surge that started minutes ago, or an earlier one that has
ended, does not raise it; a campaign's 15-minute ramp moves it by a few per cent.

>>> from datetime import UTC, datetime, timedelta
>>> now = datetime(2026, 1, 5, 12, tzinfo=UTC)
>>> points = [(now - timedelta(seconds=5 * k), 12.0) for k in range(36, 0, -1)]
>>> points.append((now, 115.0))
>>> is_young(points, now), earlier_level(points, now)
(True, 12.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from selfheal_ml.diagnosis.observations import Observation, rise_read_at_diagnosis

#: A series whose oldest stored point in the last hour is newer than this is young.
YOUNG_SERIES = timedelta(hours=1)
#: The slack on :data:`YOUNG_SERIES` for the collection interval (a series scored every 30 s
#: since long ago has a point within 30 s of an hour ago).
YOUNG_SLACK = timedelta(minutes=5)
#: How far back the earlier level is read.
CHANGE_WINDOW = timedelta(minutes=15)
#: The newest minutes left out of the earlier level (a surge ramps over two minutes).
RAMP_GUARD = timedelta(minutes=2)
#: The fewest points the earlier level is taken from.
MIN_REFERENCE_POINTS = 6

Points = Sequence[tuple[datetime, float]]


def is_young(points: Points, now: datetime) -> bool:
    """Whether a series with these stored points (the last :data:`YOUNG_SERIES`, oldest first)
    started within it: no points, or the oldest one well inside the hour."""
    return bool(points) and points[0][0] > now - YOUNG_SERIES + YOUNG_SLACK


def earlier_level(points: Points, now: datetime) -> float | None:
    """The series' level before its last minutes: the lower quartile of the values between
    :data:`CHANGE_WINDOW` and :data:`RAMP_GUARD` ago. A series watched for less than that (a
    fault injected as the service started: the live soak's first one) has its first
    :data:`MIN_REFERENCE_POINTS` points instead, when it has twice as many in all; ``None``
    with fewer.

    >>> from datetime import UTC, datetime, timedelta
    >>> now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    >>> earlier_level([(now - timedelta(seconds=10), 3.0)], now) is None
    True
    >>> ramp = [(now - timedelta(seconds=5 * k), 60.0 - 4 * k) for k in range(12, -1, -1)]
    >>> earlier_level(ramp, now)  # watched for 60 s: its first points, 12-32
    16.0
    """
    finite = [(ts, value) for ts, value in points if math.isfinite(value)]
    values = sorted(value for ts, value in finite if now - CHANGE_WINDOW <= ts <= now - RAMP_GUARD)
    if len(values) < MIN_REFERENCE_POINTS and len(finite) >= 2 * MIN_REFERENCE_POINTS:
        values = sorted(value for _, value in finite[:MIN_REFERENCE_POINTS])
    if len(values) < MIN_REFERENCE_POINTS:
        return None
    return values[(len(values) - 1) // 4]


def from_level_change(
    series: str, points: Points, labels: dict[str, str], min_ratio: float, now: datetime
) -> Observation | None:
    """A young series whose newest value is ``min_ratio`` times its :func:`earlier_level`, as
    a full-strength rise read at diagnosis (``None`` otherwise: an old series, too few
    points, a zero level or a smaller change). The earlier level stands as the expected
    range, so the observation's ``ratio`` is the change.

    >>> from datetime import UTC, datetime, timedelta
    >>> now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    >>> ramp = [(now - timedelta(seconds=5 * k), 12.0) for k in range(36, 0, -1)]
    >>> seen = from_level_change('r{platform="a"}', [*ramp, (now, 115.0)], {"platform": "a"},
    ...                          2.0, now)
    >>> round(seen.ratio, 1), seen.component
    (9.6, 'a')
    >>> from_level_change('r{platform="a"}', [*ramp, (now, 20.0)], {"platform": "a"}, 2.0,
    ...                   now) is None
    True
    """
    if not is_young(points, now):
        return None
    reference = earlier_level(points, now)
    ts, value = points[-1]
    if reference is None or reference <= 0 or value < min_ratio * reference:
        return None
    detail = (
        f"{series} at {value:.4g}, {value / reference:.1f}x its level {reference:.4g}"
        " of the minutes before (a young series, read at diagnosis)"
    )
    return rise_read_at_diagnosis(series, ts, value, reference, reference, labels, detail)
