"""MetricsStore against real DuckDB files: round trips, validation, catalogue, rollups,
retention under a SimClock, and re-opening the file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfheal_ml.clock import SimClock
from selfheal_ml.errors import ValidationError
from selfheal_ml.events import MetricPoint, series_key
from selfheal_ml.storage.database import Database
from selfheal_ml.storage.metrics import MetricsStore, parse_series_key

T0 = datetime(2026, 1, 5, tzinfo=UTC)
CPU = series_key("host_cpu_percent", {"host": "web-1"})
LATENCY = series_key("http_latency_p95_ms", {"endpoint": "/api", "platform": "leadsite.ai"})


def make_frame(
    series: list[str], points: int, *, start: datetime = T0, step_s: float = 10.0, seed: int = 0
) -> pd.DataFrame:
    """``points`` points per series, every ``step_s`` seconds from ``start``."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=points, freq=pd.Timedelta(seconds=step_s))
    frames = [
        pd.DataFrame({"series": name, "ts": ts, "value": rng.normal(50.0, 10.0, points)})
        for name in series
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "metrics.duckdb")
    yield database
    database.close()


@pytest.fixture
def store(db: Database, clock: SimClock) -> MetricsStore:
    return MetricsStore(db, clock)


def count_rows(db: Database, table: str) -> int:
    with db.read() as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    assert row is not None
    return int(row[0])


# ---- writes and raw reads -----------------------------------------------------------------


def test_round_trip_window_is_sorted_half_open_and_utc(store: MetricsStore) -> None:
    frame = make_frame([CPU, LATENCY], 60).sample(frac=1.0, random_state=1)  # shuffled
    assert store.append_batch(frame) == 120
    start, end = T0 + timedelta(seconds=100), T0 + timedelta(seconds=200)
    window = store.window(CPU, start, end)
    inside = (frame["series"] == CPU) & (frame["ts"] >= start) & (frame["ts"] < end)
    expected = frame[inside].sort_values("ts")
    assert list(window.columns) == ["ts", "value"]
    assert window["ts"].iloc[0] == T0 + timedelta(seconds=100)  # start included
    assert window["ts"].iloc[-1] == T0 + timedelta(seconds=190)  # end excluded
    assert window["ts"].is_monotonic_increasing
    assert str(window["ts"].dt.tz) == "UTC"
    np.testing.assert_allclose(window["value"].to_numpy(), expected["value"].to_numpy())


def test_arrow_table_and_points_are_accepted(store: MetricsStore) -> None:
    frame = make_frame([CPU], 5)
    assert store.append_batch(pa.Table.from_pandas(frame, preserve_index=False)) == 5
    later = T0 + timedelta(hours=1)
    point = MetricPoint(series=LATENCY, ts=later, value=12.5, labels={"platform": "x"})
    assert store.append_points([point]) == 1
    assert store.latest(LATENCY) == (later, 12.5)
    assert len(store.window(CPU, T0, later)) == 5


def test_non_utc_timezone_is_stored_as_the_same_instant(store: MetricsStore) -> None:
    frame = make_frame([CPU], 3)
    frame["ts"] = frame["ts"].dt.tz_convert("America/New_York")
    store.append_batch(frame)
    assert store.window(CPU, T0, T0 + timedelta(minutes=1))["ts"].iloc[0] == T0


def test_empty_batch_writes_nothing(store: MetricsStore, db: Database) -> None:
    assert store.append_batch(make_frame([CPU], 0)) == 0
    assert count_rows(db, "metric_points") == 0


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    frame["ts"] = frame["ts"].dt.tz_localize(None)
    return frame


Corrupt = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, row: int, value: Any) -> Corrupt:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object) if value is None else frame[column]
        frame.loc[row, column] = value
        return frame

    return corrupt


BAD_BATCHES: dict[str, tuple[Corrupt, str]] = {
    "missing value column": (lambda frame: frame.drop(columns="value"), "value"),
    "missing ts column": (lambda frame: frame.drop(columns="ts"), "ts"),
    "naive timestamps": (_naive, "ts"),
    "nan value": (_set("value", 3, float("nan")), "value"),
    "inf value": (_set("value", 7, float("inf")), "value"),
    "null series": (_set("series", 2, None), "series"),
    "empty series": (_set("series", 2, ""), "series"),
    "null ts": (_set("ts", 4, pd.NaT), "ts"),
    "text values": (lambda frame: frame.assign(value="high"), "value"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batch_raises_and_writes_nothing(store: MetricsStore, db: Database, case: str) -> None:
    store.append_batch(make_frame([CPU], 10))
    corrupt, column = BAD_BATCHES[case]
    bad = corrupt(make_frame([CPU, LATENCY], 10, start=T0 + timedelta(hours=1)))
    with pytest.raises(ValidationError) as raised:
        store.append_batch(bad)
    assert raised.value.field == column
    assert count_rows(db, "metric_points") == 10
    assert store.catalogue()["series"].tolist() == [CPU]


def test_naive_bounds_are_rejected(store: MetricsStore) -> None:
    with pytest.raises(ValidationError) as raised:
        store.window(CPU, datetime(2026, 1, 5), T0)
    assert raised.value.field == "start"


# ---- catalogue and latest -----------------------------------------------------------------


def test_parse_series_key_inverts_series_key() -> None:
    labels = {"platform": "leadsite.ai", "endpoint": "/api/v1,x", "zone": ""}
    assert parse_series_key(series_key("http_requests", labels)) == ("http_requests", labels)


def test_catalogue_labels_from_key_or_mapping_and_seen_times(store: MetricsStore) -> None:
    store.append_batch(
        make_frame([CPU, LATENCY], 10), labels={CPU: {"host": "web-1", "rack": "r7"}}
    )
    store.append_batch(make_frame([LATENCY], 5, start=T0 + timedelta(hours=2)))
    catalogue = store.catalogue().set_index("series")
    assert catalogue.loc[CPU, "labels"] == {"host": "web-1", "rack": "r7"}
    assert catalogue.loc[LATENCY, "name"] == "http_latency_p95_ms"
    assert catalogue.loc[LATENCY, "labels"] == {"endpoint": "/api", "platform": "leadsite.ai"}
    assert catalogue.loc[LATENCY, "first_seen"] == T0
    assert catalogue.loc[LATENCY, "last_seen"] == T0 + timedelta(hours=2, seconds=40)
    assert catalogue.loc[CPU, "last_seen"] == T0 + timedelta(seconds=90)
    assert store.catalogue(name="host_cpu_percent")["series"].tolist() == [CPU]


def test_catalogue_seen_times_are_exact_before_and_after_rollups(store: MetricsStore) -> None:
    cpu = make_frame([CPU], 60)  # T0 .. T0 + 9:50
    latency = make_frame([LATENCY], 90, start=T0 + timedelta(minutes=5))  # .. T0 + 19:50
    store.append_batch(pd.concat([latency, cpu], ignore_index=True))
    expected = {
        CPU: (T0, T0 + timedelta(minutes=9, seconds=50)),
        LATENCY: (T0 + timedelta(minutes=5), T0 + timedelta(minutes=19, seconds=50)),
    }
    for now in [
        None,
        T0 + timedelta(minutes=7),
        T0 + timedelta(minutes=12),
        T0 + timedelta(hours=2),
    ]:
        if now is not None:
            store.rollup(now)
        catalogue = store.catalogue().set_index("series")
        for series, (first, last) in expected.items():
            assert (catalogue.loc[series, "first_seen"], catalogue.loc[series, "last_seen"]) == (
                first,
                last,
            ), now
            latest = store.latest(series)
            assert latest is not None and latest[0] == last


def test_latest_and_latest_all(store: MetricsStore) -> None:
    frame = make_frame([CPU, LATENCY, "host_memory_percent"], 20)
    store.append_batch(frame)
    store.rollup(T0 + timedelta(minutes=30))  # moves the stored last_seen; answers must not change
    store.append_batch(make_frame([CPU], 3, start=T0 + timedelta(hours=1), seed=3))
    newest = frame.sort_values("ts").groupby("series").tail(1).set_index("series")
    cpu_ts, cpu_value = store.latest(CPU) or (None, None)
    assert cpu_ts == T0 + timedelta(hours=1, seconds=20)
    assert cpu_value == make_frame([CPU], 3, seed=3)["value"].iloc[-1]
    assert store.latest("unknown_series") is None
    every = store.latest_all()
    assert set(every) == {CPU, LATENCY, "host_memory_percent"}
    assert every[LATENCY] == (newest.loc[LATENCY, "ts"], newest.loc[LATENCY, "value"])
    assert set(store.latest_all(prefix="host_")) == {CPU, "host_memory_percent"}


def test_window_many_returns_every_requested_series(store: MetricsStore) -> None:
    store.append_batch(make_frame([CPU, LATENCY], 30))
    windows = store.window_many([CPU, "missing", LATENCY], T0, T0 + timedelta(minutes=2))
    assert list(windows) == [CPU, "missing", LATENCY]
    assert len(windows[CPU]) == 12 and len(windows[LATENCY]) == 12
    assert windows["missing"].empty and list(windows["missing"].columns) == ["ts", "value"]
    single = store.window(CPU, T0, T0 + timedelta(minutes=2))
    pd.testing.assert_frame_equal(windows[CPU], single)


# ---- rollups ------------------------------------------------------------------------------


def numpy_buckets(frame: pd.DataFrame, series: str, width: str) -> pd.DataFrame:
    """Reference bucket statistics computed with numpy (linear quantiles = quantile_cont)."""
    rows = frame[frame["series"] == series]
    stats = []
    for bucket, group in rows.groupby(rows["ts"].dt.floor(width)):
        values = group["value"].to_numpy()
        p50, p95, p99 = np.quantile(values, [0.5, 0.95, 0.99])
        stats.append(
            (bucket, len(values), values.mean(), values.min(), values.max(), p50, p95, p99)
        )
    columns = ["ts", "count", "mean", "min", "max", "p50", "p95", "p99"]
    return pd.DataFrame(stats, columns=columns)


@pytest.mark.parametrize(("resolution", "width"), [("minute", "1min"), ("hour", "1h")])
def test_rollup_matches_numpy(
    store: MetricsStore, resolution: Literal["minute", "hour"], width: str
) -> None:
    frame = make_frame([CPU, LATENCY], 1_500, step_s=7.0, seed=11)  # ~2.9 hours
    store.append_batch(frame)
    now = T0 + timedelta(hours=2, minutes=30, seconds=5)
    assert store.rollup(now) > 0
    expected = numpy_buckets(frame, LATENCY, width)
    expected = expected[expected["ts"] + pd.Timedelta(width) <= now].reset_index(drop=True)
    history = store.history(LATENCY, T0, T0 + timedelta(days=1), resolution=resolution)
    assert len(history) == len(expected)  # only closed buckets
    for column in ["count", "mean", "min", "max", "p50", "p95", "p99"]:
        np.testing.assert_allclose(history[column].to_numpy(float), expected[column], rtol=1e-9)
    assert (history["ts"] == expected["ts"]).all()
    np.testing.assert_allclose(history["value"], history["mean"])


def test_rollup_is_idempotent_and_incremental(store: MetricsStore, db: Database) -> None:
    store.append_batch(make_frame([CPU], 360))  # one hour at 10 s
    first = store.rollup(T0 + timedelta(minutes=30))
    assert first == 30  # 30 closed minutes, no closed hour
    with db.read() as conn:
        before = conn.execute("SELECT * FROM metric_rollup_minute ORDER BY bucket").fetchall()
    assert store.rollup(T0 + timedelta(minutes=30)) == 0
    with db.read() as conn:
        after = conn.execute("SELECT * FROM metric_rollup_minute ORDER BY bucket").fetchall()
    assert after == before
    assert store.rollup(T0 + timedelta(hours=1)) == 30 + 1  # the other 30 minutes + 1 hour
    assert count_rows(db, "metric_rollup_minute") == 60
    assert count_rows(db, "metric_rollup_hour") == 1


def test_late_points_re_roll_their_bucket(store: MetricsStore) -> None:
    store.append_batch(make_frame([CPU], 360))
    store.rollup(T0 + timedelta(hours=2))
    before = store.history(CPU, T0, T0 + timedelta(hours=1), "minute")
    late_ts = pd.Timestamp(T0 + timedelta(minutes=5, seconds=3))
    store.append_batch(pd.DataFrame({"series": [CPU], "ts": [late_ts], "value": [1e6]}))
    assert store.rollup(T0 + timedelta(hours=2)) > 0
    after = store.history(CPU, T0, T0 + timedelta(hours=1), "minute")
    changed = after["ts"] == T0 + timedelta(minutes=5)
    assert after.loc[changed, "count"].tolist() == [7]
    assert after.loc[changed, "max"].tolist() == [1e6]
    pd.testing.assert_frame_equal(after[~changed], before[~changed])
    hour = store.history(CPU, T0, T0 + timedelta(hours=1), "hour")
    assert hour["count"].tolist() == [361]
    assert store.rollup(T0 + timedelta(hours=2)) == 0


def test_history_rejects_unknown_resolution(store: MetricsStore) -> None:
    with pytest.raises(ValidationError) as raised:
        store.history(CPU, T0, T0 + timedelta(hours=1), resolution="day")  # type: ignore[arg-type]
    assert raised.value.field == "resolution"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offsets_s=st.lists(st.integers(min_value=0, max_value=3 * 3_600 - 1), min_size=1, max_size=80),
    now_offset_s=st.integers(min_value=0, max_value=4 * 3_600),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_rollup_counts_sum_to_the_raw_count(
    offsets_s: list[int], now_offset_s: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    names = rng.choice([CPU, LATENCY], size=len(offsets_s))
    ts = pd.to_datetime([T0 + timedelta(seconds=offset) for offset in offsets_s], utc=True)
    frame = pd.DataFrame({"series": names, "ts": ts, "value": rng.normal(size=len(offsets_s))})
    database = Database(":memory:")
    store = MetricsStore(database, SimClock(T0))
    half = len(frame) // 2
    store.append_batch(frame.iloc[:half])
    now = T0 + timedelta(seconds=now_offset_s)
    store.rollup(now - timedelta(minutes=37))  # a partial rollup first, then late data
    store.append_batch(frame.iloc[half:])
    store.rollup(now)
    for resolution, width_s in [("minute", 60), ("hour", 3_600)]:
        closed = T0 + timedelta(seconds=(now_offset_s // width_s) * width_s)
        with database.read() as conn:
            row = conn.execute(f"SELECT sum(count) FROM metric_rollup_{resolution}").fetchall()[0]
        rolled = int(row[0] or 0) if row else 0
        assert rolled == int((frame["ts"] < closed).sum()), resolution
    database.close()


# ---- retention and durability -------------------------------------------------------------


def test_retention_under_sim_clock(store: MetricsStore, clock: SimClock, db: Database) -> None:
    store.append_batch(make_frame([CPU, LATENCY], 720))  # two hours at 10 s
    clock.advance(31 * 86_400)
    deleted = store.enforce_retention()
    assert deleted["metric_points"] == 1_440
    assert deleted["metric_rollup_minute"] == 0 and deleted["metric_rollup_hour"] == 0
    assert count_rows(db, "metric_points") == 0
    assert count_rows(db, "metric_rollup_minute") == 240
    hour = store.history(CPU, T0, T0 + timedelta(days=1), "hour")
    assert hour["count"].tolist() == [360, 360]
    assert store.latest(CPU) is None
    clock.advance(335 * 86_400)  # 366 days after the points
    deleted = store.enforce_retention()
    assert deleted == {
        "metric_points": 0,
        "metric_rollup_minute": 240,
        "metric_rollup_hour": 4,
        "metric_series": 2,
    }
    assert store.history(CPU, T0, T0 + timedelta(days=1), "hour").empty


def test_retention_is_configurable(db: Database, clock: SimClock) -> None:
    store = MetricsStore(db, clock, raw_retention_s=3_600.0, aggregate_retention_s=7_200.0)
    store.append_batch(make_frame([CPU], 360))  # T0 .. T0 + 1 h
    clock.advance(90 * 60)
    assert store.enforce_retention()["metric_points"] == 180  # older than T0 + 30 min
    assert count_rows(db, "metric_rollup_hour") == 1


def test_reopening_the_file_keeps_everything(tmp_path: Path, clock: SimClock) -> None:
    path = tmp_path / "reopen.duckdb"
    database = Database(path)
    frame = make_frame([CPU, LATENCY], 100)
    MetricsStore(database, clock).append_batch(frame)
    MetricsStore(database, clock).rollup(T0 + timedelta(hours=1))
    database.close()
    reopened = Database(path)
    store = MetricsStore(reopened, clock)
    window = store.window(CPU, T0, T0 + timedelta(days=1))
    np.testing.assert_allclose(window["value"], frame[frame["series"] == CPU]["value"])
    assert set(store.catalogue()["series"]) == {CPU, LATENCY}
    assert len(store.history(CPU, T0, T0 + timedelta(hours=1), "minute")) == 17
    reopened.close()
