"""Readers do not queue behind writes; cached reads are dropped by the writes that change them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from selfheal_ml.storage import Database
from selfheal_ml.storage.forecasts import ForecastStore
from selfheal_ml.storage.read_cache import ReadCache
from selfheal_ml.storage.repairs import RepairAuditStore

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _frame(mean: float) -> pd.DataFrame:
    steps = range(1, 4)
    return pd.DataFrame(
        {
            "step": list(steps),
            "ts": [T0 + timedelta(hours=step) for step in steps],
            "mean": [mean] * 3,
            "lo_80": [mean - 1] * 3,
            "hi_80": [mean + 1] * 3,
            "lo_95": [mean - 2] * 3,
            "hi_95": [mean + 2] * 3,
        }
    )


def test_a_read_answers_while_another_thread_holds_a_write_transaction(db_path: Path) -> None:
    database = Database(db_path)
    with database.transaction() as conn:
        conn.execute("CREATE TABLE numbers (n INTEGER)")
        conn.execute("INSERT INTO numbers VALUES (1)")
    writing, release = threading.Event(), threading.Event()

    def writer() -> None:
        with database.transaction() as conn:
            conn.execute("INSERT INTO numbers VALUES (2)")
            writing.set()
            release.wait(5.0)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(5.0)
    answered: list[int] = []
    reader = threading.Thread(
        target=lambda: answered.append(_count(database)), name="reader", daemon=True
    )
    reader.start()
    reader.join(2.0)
    release.set()
    thread.join(5.0)
    assert answered == [1]  # answered during the write, without its uncommitted row
    assert _count(database) == 2
    database.close()


def _count(database: Database) -> int:
    with database.read() as conn:
        row = conn.execute("SELECT count(*) FROM numbers").fetchone()
    assert row is not None
    return int(row[0])


def test_a_read_inside_a_transaction_sees_its_own_writes(db_path: Path) -> None:
    database = Database(db_path)
    with database.transaction() as conn:
        conn.execute("CREATE TABLE numbers (n INTEGER)")
        conn.execute("INSERT INTO numbers VALUES (1)")
        assert _count(database) == 1
    database.close()


def test_forecasts_are_cached_until_saved_again(db_path: Path) -> None:
    database = Database(db_path)
    store = ForecastStore(database)
    assert store.load("cpu") is None
    store.save("cpu", T0, "ets", False, _frame(5.0))
    first = store.load("cpu")
    assert first is not None and store.load("cpu") is first  # from memory
    assert store.series() == ["cpu"]
    store.save("cpu", T0 + timedelta(hours=1), "ets", False, _frame(7.0))
    second = store.load("cpu")
    assert second is not None and second.frame["mean"].tolist() == [7.0] * 3
    store.save("mem", T0, "ets", False, _frame(1.0))
    assert store.series() == ["cpu", "mem"]
    database.close()


def test_repair_summary_is_cached_until_the_log_changes(db_path: Path) -> None:
    database = Database(db_path)
    store = RepairAuditStore(database)
    assert store.summary().total == 0
    attempt = store.record(
        ts=T0, correlation_id="c1", action="restart_service", target="shop", decision="executed"
    )
    assert (store.summary().total, store.summary().active) == (1, 1)
    store.finish(attempt, outcome="worked", finished_at=T0 + timedelta(minutes=2))
    summary = store.summary()
    assert (summary.active, summary.success_rate) == (0, 1.0)
    database.close()


def test_a_load_that_raced_with_a_write_is_not_kept() -> None:
    cache: ReadCache[str, int] = ReadCache()
    values = iter([1, 2])

    def load_during_a_write(key: str) -> int:
        cache.invalidate(key)  # a write lands while the read runs
        return next(values)

    assert cache.get("k", load_during_a_write) == 1
    assert cache.get("k", lambda key: 2) == 2


def test_the_cache_keeps_at_most_max_entries() -> None:
    cache: ReadCache[int, int] = ReadCache(max_entries=2)
    for key in range(3):
        cache.get(key, lambda key: key * 10)
    cache.get(0, lambda key: -1)
    assert (cache.hits, cache.misses) == (0, 4)  # 0 was evicted, loaded again
