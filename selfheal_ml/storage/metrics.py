"""MetricsStore: raw metric points, the series catalogue and minute/hour rollups in DuckDB.

Points are stored in long format (``series, ts, value``) in ``metric_points`` and appended only
in bulk: :meth:`MetricsStore.append_batch` checks a pandas DataFrame or Arrow table with Arrow
compute kernels, then hands it to DuckDB's native Arrow scan (no Python loop over rows) in one
transaction that also adds unseen series to the catalogue. A bad batch raises
:class:`~selfheal_ml.errors.ValidationError` before anything is written.

The catalogue (``metric_series``) keeps name, labels, first_seen and last_seen per series. To
keep appends as cheap as a plain INSERT, a steady-state append does not touch it: new series
start with bounds, :meth:`MetricsStore.rollup` folds rolled points in, and reads
(:meth:`MetricsStore.catalogue`, :meth:`MetricsStore.latest`) combine it with the points not
rolled yet, so what they return is exact. Use one MetricsStore per Database.

:meth:`MetricsStore.rollup` aggregates closed minute and hour buckets (count, mean, min, max,
p50/p95/p99 via ``quantile_cont``) incrementally behind a per-resolution watermark, so
re-running it changes nothing. Points that arrive late for an already rolled bucket pull the
watermark back and the bucket is recomputed from raw points on the next rollup (if its raw
points are still retained). :meth:`MetricsStore.enforce_retention` rolls up first, then deletes
raw points older than ``raw_retention_s`` (30 days) and aggregates older than
``aggregate_retention_s`` (365 days).

All datetimes going in must be timezone-aware; everything coming out is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import duckdb

from selfheal_ml.clock import Clock
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint, unescape_label_value
from selfheal_ml.storage.database import Database

if TYPE_CHECKING:  # imported by the functions that use them: the API reads without them
    import pandas as pd
    import pyarrow as pa

Resolution = Literal["raw", "minute", "hour"]
RAW_RETENTION_S = 30 * 86_400.0
AGGREGATE_RETENTION_S = 365 * 86_400.0
_BUCKET_WIDTH_S = {"minute": 60, "hour": 3_600}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OLDEST = datetime(1, 1, 2, tzinfo=UTC)
_TICK = timedelta(microseconds=1)
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
_STAT_COLUMNS = ["count", "mean", "min", "max", "p50", "p95", "p99"]


def parse_series_key(key: str) -> tuple[str, dict[str, str]]:
    """Split a Prometheus-style series key (see ``events.series_key``) into name and labels.

    >>> parse_series_key('http_latency_p95_ms{endpoint="/api",platform="leadsite.ai"}')
    ('http_latency_p95_ms', {'endpoint': '/api', 'platform': 'leadsite.ai'})
    >>> parse_series_key("host_cpu_percent")
    ('host_cpu_percent', {})
    >>> from selfheal_ml.events import series_key
    >>> parse_series_key(series_key("m", {"a": 'x",b="y', "c": "\\\\"}))
    ('m', {'a': 'x",b="y', 'c': '\\\\'})
    """
    if not key.endswith("}") or "{" not in key:
        return key, {}
    name, _, inner = key[:-1].partition("{")
    return name, {
        match.group(1): unescape_label_value(match.group(2)) for match in _LABEL.finditer(inner)
    }


def floor_to_bucket(moment: datetime, width_s: int) -> datetime:
    """The start of the ``width_s``-second UTC bucket holding ``moment``.

    >>> floor_to_bucket(datetime(2026, 1, 1, 10, 31, 59, tzinfo=UTC), 3_600).isoformat()
    '2026-01-01T10:00:00+00:00'
    """
    buckets = (moment - _EPOCH) // timedelta(seconds=width_s)
    return _EPOCH + timedelta(seconds=buckets * width_s)


def _require_aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(name, f"expected a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


def _to_utc(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _check_pandas_types(batch: pd.DataFrame) -> None:
    import pandas as pd

    series, ts, value = batch["series"].dtype, batch["ts"].dtype, batch["value"].dtype
    if not (pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)):
        raise ValidationError("series", f"expected string series keys, got dtype {series}")
    if not isinstance(ts, pd.DatetimeTZDtype):
        problem = "naive timestamps" if pd.api.types.is_datetime64_dtype(ts) else f"dtype {ts}"
        raise ValidationError("ts", f"expected timezone-aware UTC timestamps, got {problem}")
    if not pd.api.types.is_numeric_dtype(value) or pd.api.types.is_bool_dtype(value):
        raise ValidationError("value", f"expected numeric values, got dtype {value}")


def _check_arrow_types(batch: pa.Table) -> None:
    import pyarrow as pa

    series, ts, value = (batch.schema.field(name).type for name in ("series", "ts", "value"))
    if not (pa.types.is_string(series) or pa.types.is_large_string(series)):
        raise ValidationError("series", f"expected string series keys, got type {series}")
    if not pa.types.is_timestamp(ts) or ts.tz is None:
        problem = "naive timestamps" if pa.types.is_timestamp(ts) else f"type {ts}"
        raise ValidationError("ts", f"expected timezone-aware UTC timestamps, got {problem}")
    if not (pa.types.is_floating(value) or pa.types.is_integer(value)):
        raise ValidationError("value", f"expected numeric values, got type {value}")


def to_arrow_batch(batch: pd.DataFrame | pa.Table) -> pa.Table:
    """Check the column types of a batch and return its ``series, ts, value`` as Arrow.

    Pandas columns are converted one by one (cheap, often zero-copy); extra columns are
    dropped. Raises :class:`ValidationError` naming the column and the problem.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"series": ["a"], "ts": [pd.Timestamp("2026-01-01")], "value": [1.0]})
    >>> try:
    ...     to_arrow_batch(frame)
    ... except ValidationError as error:
    ...     print(error.field, "|", error.problem)
    ts | expected timezone-aware UTC timestamps, got naive timestamps
    """
    import pyarrow as pa

    # an Arrow batch (what the collectors and remote write append) never imports pandas
    names = batch.column_names if isinstance(batch, pa.Table) else list(batch.columns)
    for column in ("series", "ts", "value"):
        if column not in names:
            raise ValidationError(column, f"missing column; got columns {names}")
    if isinstance(batch, pa.Table):
        _check_arrow_types(batch)
        return batch.select(["series", "ts", "value"])
    _check_pandas_types(batch)
    try:
        series = pa.array(batch["series"], type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationError("series", f"expected string series keys: {exc}") from exc
    ts, value = pa.array(batch["ts"]), pa.array(batch["value"])
    return pa.table({"series": series, "ts": ts, "value": value})


def check_batch_values(table: pa.Table) -> None:
    """Raise :class:`ValidationError` on null/empty series, null ts or non-finite values.

    >>> import pyarrow as pa
    >>> table = pa.table({"series": ["a", "a"], "ts": [0, 1], "value": [1.0, float("inf")]})
    >>> try:
    ...     check_batch_values(table)
    ... except ValidationError as error:
    ...     print(error.field, "|", error.problem)
    value | 1 null or non-finite (NaN/inf) values
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    series = table["series"]
    if series.null_count:
        raise ValidationError("series", f"{series.null_count} null series keys in the batch")
    if table["ts"].null_count:
        raise ValidationError("ts", f"{table['ts'].null_count} null timestamps in the batch")
    finite = pc.fill_null(pc.is_finite(pc.cast(table["value"], pa.float64())), False)
    bad = table.num_rows - int(pc.sum(finite).as_py() or 0)
    if bad:
        raise ValidationError("value", f"{bad} null or non-finite (NaN/inf) values")


def _time_range(ts: pa.ChunkedArray) -> tuple[datetime, datetime]:
    """Smallest and largest timestamp of a non-empty Arrow timestamp column (microseconds)."""
    import pyarrow.compute as pc

    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[ts.type.unit]
    extremes = pc.min_max(ts)
    low, high = (
        _EPOCH + timedelta(microseconds=int(extremes[key].value) * 1_000_000 // per_second)
        for key in ("min", "max")
    )
    return low, high


def _insert_catalogue(
    conn: duckdb.DuckDBPyConnection,
    new: list[str],
    labels: Mapping[str, Mapping[str, str]],
    time_range: tuple[datetime, datetime],
) -> None:
    """Add catalogue rows for series seen for the first time.

    Computing each new series' own first/last timestamp would cost a group-by over the batch,
    so the rows start with bounds (first_seen = batch max, last_seen = batch min) that reads
    and :meth:`MetricsStore.rollup` tighten from the raw points.
    """
    import pyarrow as pa

    names: list[str] = []
    pairs: list[list[tuple[str, str]]] = []
    for series in new:
        name, parsed = parse_series_key(series)
        names.append(name)
        pairs.append(sorted(labels.get(series, parsed).items()))
    catalogue = pa.table(
        {
            "series": pa.array(new, pa.large_string()),
            "name": pa.array(names, pa.large_string()),
            "labels": pa.array(pairs, pa.map_(pa.large_string(), pa.large_string())),
            "first_seen": pa.array([time_range[1]] * len(new), pa.timestamp("us", tz="UTC")),
            "last_seen": pa.array([time_range[0]] * len(new), pa.timestamp("us", tz="UTC")),
        }
    )
    conn.from_arrow(catalogue).insert_into("metric_series")


def _pull_back_watermarks(conn: duckdb.DuckDBPyConnection, earliest: datetime) -> None:
    """Late points for already rolled buckets: move the rollup watermarks back to re-roll."""
    rows = conn.execute(
        "SELECT max(until) FROM metric_watermarks WHERE name IN ('rollup_minute', 'rollup_hour')"
    ).fetchall()
    if not rows or rows[0][0] is None or earliest >= rows[0][0]:
        return
    conn.execute(
        "UPDATE metric_watermarks SET until = CASE name"
        " WHEN 'rollup_minute' THEN ?::TIMESTAMPTZ ELSE ?::TIMESTAMPTZ END"
        " WHERE name IN ('rollup_minute', 'rollup_hour') AND until > ?::TIMESTAMPTZ",
        [floor_to_bucket(earliest, 60), floor_to_bucket(earliest, 3_600), earliest],
    )


def _watermark(conn: duckdb.DuckDBPyConnection, name: str) -> datetime | None:
    rows = conn.execute("SELECT until FROM metric_watermarks WHERE name = ?", [name]).fetchall()
    return rows[0][0].astimezone(UTC) if rows else None


def _set_watermark(conn: duckdb.DuckDBPyConnection, name: str, until: datetime) -> None:
    conn.execute(
        "INSERT INTO metric_watermarks VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET until = excluded.until",
        [name, until],
    )


def _aggregate(
    conn: duckdb.DuckDBPyConnection, resolution: str, width_s: int, start: datetime, end: datetime
) -> int:
    """Upsert the ``resolution`` buckets in ``[start, end)`` from raw points.

    The usual case (no bucket from ``start`` on was written yet, i.e. the watermark was not
    pulled back by late points) is a plain insert, about half the cost of the upsert's
    conflict check against the primary-key index; the existence check is a cheap scan.
    """
    table = f"metric_rollup_{resolution}"
    taken = conn.execute(f"SELECT 1 FROM {table} WHERE bucket >= ? LIMIT 1", [start]).fetchall()
    updates = ", ".join(f"{column} = excluded.{column}" for column in _STAT_COLUMNS)
    on_conflict = f" ON CONFLICT (series, bucket) DO UPDATE SET {updates}" if taken else ""
    result = conn.execute(
        f"INSERT INTO {table}"
        " SELECT series, bucket, n, mean, low, high, q[1], q[2], q[3] FROM ("
        f"  SELECT series, time_bucket(INTERVAL '{width_s} seconds', ts, 'UTC') AS bucket,"
        "   count(*) AS n, avg(value) AS mean, min(value) AS low, max(value) AS high,"
        "   quantile_cont(value, [0.5, 0.95, 0.99]) AS q"
        f"  FROM metric_points WHERE ts >= ? AND ts < ? GROUP BY ALL){on_conflict}",
        [start, end],
    ).fetchall()
    return int(result[0][0]) if result else 0


def _refresh_catalogue(conn: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> None:
    """Fold the points in ``[start, end)`` into the catalogue's first_seen/last_seen."""
    conn.execute(
        "UPDATE metric_series SET first_seen = least(metric_series.first_seen, seen.first_ts),"
        " last_seen = greatest(metric_series.last_seen, seen.last_ts) FROM ("
        "  SELECT series, min(ts) AS first_ts, max(ts) AS last_ts FROM metric_points"
        "  WHERE ts >= ? AND ts < ? GROUP BY series) AS seen"
        " WHERE metric_series.series = seen.series",
        [start, end],
    )


class MetricsStore:
    """Metric points, catalogue and rollups over a migrated :class:`Database`.

    >>> from selfheal_ml.clock import SimClock
    >>> store = MetricsStore(Database(":memory:"), SimClock(datetime(2026, 1, 5, tzinfo=UTC)))
    >>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
    >>> store.append_points([MetricPoint(series='cpu{host="a"}', ts=t0, value=0.5)])
    1
    >>> store.latest('cpu{host="a"}')
    (datetime.datetime(2026, 1, 5, 0, 0, tzinfo=datetime.timezone.utc), 0.5)
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        raw_retention_s: float = RAW_RETENTION_S,
        aggregate_retention_s: float = AGGREGATE_RETENTION_S,
    ) -> None:
        self.db = db
        self.clock = clock
        self.raw_retention_s = raw_retention_s
        self.aggregate_retention_s = aggregate_retention_s
        self._known: set[str] = set()
        self._known_loaded = False
        with db.read() as conn:  # warm the catalogue cache now, not in the first append
            self._load_known(conn)

    # ---- writes -------------------------------------------------------------------------

    def append_batch(
        self,
        batch: pd.DataFrame | pa.Table,
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> int:
        """Append a batch with columns ``series, ts, value``; returns the rows written.

        New series enter the catalogue with labels from ``labels[series]`` when given, else
        parsed from the series key. Extra columns are ignored. All or nothing: a bad batch
        raises :class:`ValidationError` and writes nothing; a good one is one transaction.
        """
        import pyarrow.compute as pc

        table = to_arrow_batch(batch)
        if table.num_rows == 0:
            return 0
        check_batch_values(table)
        uniques = pc.unique(table["series"]).to_pylist()
        if "" in uniques:
            raise ValidationError("series", "empty series key in the batch")
        time_range = _time_range(table["ts"])
        with self.db.transaction() as conn:
            new = self._new_series(conn, uniques)
            if new:
                _insert_catalogue(conn, new, labels or {}, time_range)
            conn.from_arrow(table).insert_into("metric_points")  # DuckDB's Arrow scan
            _pull_back_watermarks(conn, time_range[0])
        self._known.update(new)  # only once the transaction committed
        return int(table.num_rows)

    def _load_known(self, conn: duckdb.DuckDBPyConnection) -> None:
        rows = conn.execute("SELECT series FROM metric_series").fetchall()
        self._known = {str(row[0]) for row in rows}
        self._known_loaded = True

    def _new_series(self, conn: duckdb.DuckDBPyConnection, uniques: list[str]) -> list[str]:
        """Series of the batch not in the catalogue yet.

        The known set is cached (one MetricsStore per Database, as the runtime builds it); it
        is re-read inside the caller's transaction only after retention may have dropped
        catalogue rows. Batches run no catalogue query here.
        """
        if not self._known_loaded:
            self._load_known(conn)
        return sorted(set(uniques).difference(self._known))

    def append_points(self, points: Iterable[MetricPoint]) -> int:
        """Append :class:`MetricPoint` objects (a new series takes its labels from its point)."""
        import pyarrow as pa

        listed = list(points)
        table = pa.table(
            {
                "series": pa.array([point.series for point in listed], pa.large_string()),
                "ts": pa.array([point.ts for point in listed], pa.timestamp("us", tz="UTC")),
                "value": pa.array([point.value for point in listed], pa.float64()),
            }
        )
        labels = {point.series: point.labels for point in listed if point.labels}
        return self.append_batch(table, labels)

    # ---- rollups and retention ---------------------------------------------------------

    def rollup(self, now: datetime | None = None) -> int:
        """Roll up closed minute and hour buckets not rolled yet; returns rows written.

        Also folds the rolled points into the catalogue's ``first_seen``/``last_seen``.
        """
        moment = _require_aware("now", now or self.clock.now())
        written = 0
        with self.db.transaction() as conn:
            deleted_before = _watermark(conn, "raw_deleted_before")
            for resolution, width_s in _BUCKET_WIDTH_S.items():
                end = floor_to_bucket(moment, width_s)
                start = _OLDEST
                if deleted_before is not None:  # a bucket must still hold all its raw points
                    start = floor_to_bucket(deleted_before - _TICK, width_s)
                    start += timedelta(seconds=width_s)
                rolled = _watermark(conn, f"rollup_{resolution}")
                if rolled is not None:
                    start, end = max(start, rolled), max(end, rolled)
                if start < end:
                    written += _aggregate(conn, resolution, width_s, start, end)
                    if resolution == "minute":
                        _refresh_catalogue(conn, start, end)
                _set_watermark(conn, f"rollup_{resolution}", end)
        return written

    def enforce_retention(self, now: datetime | None = None) -> dict[str, int]:
        """Roll up, then delete expired raw points, aggregates and catalogue entries.

        Returns the rows deleted per table.
        """
        moment = _require_aware("now", now or self.clock.now())
        self.rollup(moment)
        raw_horizon = moment - timedelta(seconds=self.raw_retention_s)
        aggregate_horizon = moment - timedelta(seconds=self.aggregate_retention_s)
        deletes = {
            "metric_points": ("ts", raw_horizon),
            "metric_rollup_minute": ("bucket", aggregate_horizon),
            "metric_rollup_hour": ("bucket", aggregate_horizon),
            "metric_series": ("last_seen", aggregate_horizon),
        }
        deleted: dict[str, int] = {}
        with self.db.transaction() as conn:
            previous = _watermark(conn, "raw_deleted_before")
            _set_watermark(conn, "raw_deleted_before", max(raw_horizon, previous or raw_horizon))
            for table, (column, horizon) in deletes.items():
                rows = conn.execute(f"DELETE FROM {table} WHERE {column} < ?", [horizon]).fetchall()
                deleted[table] = int(rows[0][0]) if rows else 0
        self._known_loaded = False  # catalogue rows may be gone: reload on the next append
        return deleted

    # ---- reads ------------------------------------------------------------------------

    def window(self, series: str, start: datetime, end: datetime) -> pd.DataFrame:
        """Raw points of one series in ``[start, end)``: columns ``ts, value``, sorted by ts."""
        bounds = [_require_aware("start", start), _require_aware("end", end)]
        with self.db.read() as conn:
            frame = conn.execute(
                "SELECT ts, value FROM metric_points WHERE series = ? AND ts >= ? AND ts < ?"
                " ORDER BY ts",
                [series, *bounds],
            ).df()
        return _to_utc(frame, ["ts"])

    def window_many(
        self, series_list: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, pd.DataFrame]:
        """:meth:`window` for many series in one scan; every requested series gets a key."""
        wanted = list(dict.fromkeys(series_list))
        bounds = [_require_aware("start", start), _require_aware("end", end)]
        with self.db.read() as conn:
            frame = conn.execute(
                "SELECT series, ts, value FROM metric_points"
                " WHERE list_contains(?::VARCHAR[], series) AND ts >= ? AND ts < ?"
                " ORDER BY series, ts",
                [wanted, *bounds],
            ).df()
        frame = _to_utc(frame, ["ts"])
        groups = {str(key): group for key, group in frame.groupby("series", sort=False)}
        empty = frame.iloc[0:0][["ts", "value"]]
        return {
            name: groups[name][["ts", "value"]].reset_index(drop=True)
            if name in groups
            else empty.copy()
            for name in wanted
        }

    def rollups_many(
        self, series_list: Iterable[str], start: datetime, end: datetime, resolution: Resolution
    ) -> dict[str, pd.DataFrame]:
        """Bucket means (``ts``, ``value``) of many series in one query, from the rollups."""
        if resolution not in _BUCKET_WIDTH_S:
            raise ValidationError("resolution", f"expected minute or hour, got {resolution!r}")
        wanted = list(dict.fromkeys(series_list))
        bounds = [_require_aware("start", start), _require_aware("end", end)]
        with self.db.read() as conn:
            frame = conn.execute(
                f"SELECT series, bucket AS ts, mean AS value FROM metric_rollup_{resolution}"
                " WHERE list_contains(?::VARCHAR[], series) AND bucket >= ? AND bucket < ?"
                " ORDER BY series, bucket",
                [wanted, *bounds],
            ).df()
        frame = _to_utc(frame, ["ts"])
        groups = {str(key): group for key, group in frame.groupby("series", sort=False)}
        return {
            name: groups[name][["ts", "value"]].reset_index(drop=True)
            for name in wanted
            if name in groups
        }

    def latest(self, series: str) -> tuple[datetime, float] | None:
        """The newest retained point of ``series``, or None."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT ts, value FROM metric_points WHERE series = ?"
                " AND ts >= (SELECT last_seen FROM metric_series WHERE series = ?)"
                " ORDER BY ts DESC LIMIT 1",
                [series, series],
            ).fetchall()
        return (rows[0][0].astimezone(UTC), float(rows[0][1])) if rows else None

    def latest_all(self, prefix: str | None = None) -> dict[str, tuple[datetime, float]]:
        """The newest retained point of every series (whose key starts with ``prefix``)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT p.series, max(p.ts), arg_max(p.value, p.ts) FROM metric_points p"
                " JOIN metric_series s ON p.series = s.series AND p.ts >= s.last_seen"
                " WHERE ?::VARCHAR IS NULL OR starts_with(p.series, ?::VARCHAR)"
                " GROUP BY p.series",
                [prefix, prefix],
            ).fetchall()
        return {str(row[0]): (row[1].astimezone(UTC), float(row[2])) for row in rows}

    def catalogue(self, name: str | None = None) -> pd.DataFrame:
        """Known series: ``series, name, labels (dict), first_seen, last_seen``, by series."""
        import pandas as pd

        with self.db.read() as conn:
            frame = conn.execute(
                "WITH fresh AS (SELECT series, min(ts) AS first_ts, max(ts) AS last_ts"
                "  FROM metric_points"
                "  WHERE ts >= coalesce((SELECT until FROM metric_watermarks"
                "   WHERE name = 'rollup_minute'), '-infinity'::TIMESTAMPTZ) GROUP BY series)"
                " SELECT s.series, s.name, s.labels,"
                "  least(s.first_seen, coalesce(f.first_ts, s.first_seen)) AS first_seen,"
                "  greatest(s.last_seen, coalesce(f.last_ts, s.last_seen)) AS last_seen"
                " FROM metric_series s LEFT JOIN fresh f ON s.series = f.series"
                " WHERE ?::VARCHAR IS NULL OR s.name = ?::VARCHAR ORDER BY s.series",
                [name, name],
            ).df()
        frame["labels"] = pd.Series(
            [dict(labels) for labels in frame["labels"]], index=frame.index, dtype=object
        )
        return _to_utc(frame, ["first_seen", "last_seen"])

    def history(
        self, series: str, start: datetime, end: datetime, resolution: Resolution = "raw"
    ) -> pd.DataFrame:
        """Points or buckets of one series in ``[start, end)``.

        ``raw`` gives ``ts, value``; ``minute``/``hour`` give ``ts`` (bucket start), ``value``
        (the bucket mean) and ``count, mean, min, max, p50, p95, p99``.
        """
        if resolution == "raw":
            return self.window(series, start, end)
        if resolution not in _BUCKET_WIDTH_S:
            raise ValidationError("resolution", f"expected raw, minute or hour, got {resolution!r}")
        bounds = [_require_aware("start", start), _require_aware("end", end)]
        columns = ", ".join(_STAT_COLUMNS)
        with self.db.read() as conn:
            frame = conn.execute(
                f"SELECT bucket AS ts, mean AS value, {columns} FROM metric_rollup_{resolution}"
                " WHERE series = ? AND bucket >= ? AND bucket < ? ORDER BY bucket",
                [series, *bounds],
            ).df()
        return _to_utc(frame, ["ts"])
