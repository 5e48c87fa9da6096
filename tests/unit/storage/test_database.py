"""Database: numbered migrations applied exactly once, re-opening applies nothing, and a
transaction that raises leaves no trace."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from selfheal_ml.errors import StorageError
from selfheal_ml.storage.database import Database, bundled_migrations


def applied(db: Database) -> list[tuple[int, str]]:
    with db.read() as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        return [(int(version), str(name)) for version, name in rows.fetchall()]


def test_bundled_migrations_are_numbered_and_ordered() -> None:
    numbers = [migration.number for migration in bundled_migrations()]
    assert numbers == sorted(set(numbers))
    assert 1 in numbers


def test_every_migration_is_applied_once(tmp_path: Path) -> None:
    db = Database(tmp_path / "fresh.duckdb")
    expected = [(migration.number, migration.name) for migration in bundled_migrations()]
    assert applied(db) == expected
    assert db.migrate() == []
    assert applied(db) == expected
    with db.read() as conn:
        tables = {
            row[0] for row in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
    assert {
        "metric_points",
        "metric_series",
        "metric_rollup_minute",
        "metric_rollup_hour",
    } <= tables
    db.close()


def test_reopening_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "reopen.duckdb"
    first = Database(path)
    with first.read() as conn:
        stamps = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    first.close()
    second = Database(path)
    with second.read() as conn:
        again = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    assert sorted(again) == sorted(stamps)
    assert second.migrate() == []
    second.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "rollback.duckdb")
    with db.transaction() as conn:
        conn.execute("CREATE TABLE notes (body VARCHAR)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
    with pytest.raises(RuntimeError, match="boom"), db.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES ('lost')")
        raise RuntimeError("boom")
    with db.transaction() as conn:  # the connection is usable again after the rollback
        conn.execute("INSERT INTO notes VALUES ('after')")
    with db.read() as conn:
        bodies = [row[0] for row in conn.execute("SELECT body FROM notes ORDER BY body").fetchall()]
    assert bodies == ["after", "kept"]
    db.close()


def test_read_only_open_sees_the_data(tmp_path: Path) -> None:
    path = tmp_path / "readonly.duckdb"
    writer = Database(path)
    with writer.transaction() as conn:
        conn.execute("INSERT INTO metric_series VALUES ('a', 'a', MAP {}, now(), now())")
    writer.close()
    reader = Database(path, read_only=True)
    with reader.read() as conn:
        row = conn.execute("SELECT count(*) FROM metric_series").fetchall()[0]
    assert row is not None and row[0] == 1
    reader.close()


def test_the_memory_limit_bounds_duckdb(tmp_path: Path) -> None:
    db = Database(tmp_path / "bounded.duckdb", memory_limit_mb=64)
    with db.transaction() as conn:
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()
    db.close()
    assert limit is not None and limit[0] == "61.0 MiB"  # DuckDB shows 64 MB (10**6) in MiB


def test_allocator_background_threads_are_set_only_when_asked(tmp_path: Path) -> None:
    def background_threads(db: Database) -> object:
        with db.read() as conn:
            row = conn.execute("SELECT current_setting('allocator_background_threads')").fetchone()
        db.close()
        return row[0] if row else None

    assert background_threads(Database(tmp_path / "on.duckdb", allocator_background_threads=True))
    assert not background_threads(Database(tmp_path / "off.duckdb"))


def test_the_checkpoint_threshold_is_set_and_checked(tmp_path: Path) -> None:
    db = Database(tmp_path / "small_wal.duckdb", checkpoint_threshold_mb=4)
    with db.read() as conn:
        threshold = conn.execute("SELECT current_setting('checkpoint_threshold')").fetchone()
    db.close()
    assert threshold is not None and threshold[0] == "3.8 MiB"  # 4 MB (10**6) in MiB
    with pytest.raises(StorageError, match="checkpoint_threshold_mb"):
        Database(tmp_path / "refused.duckdb", checkpoint_threshold_mb=0)


def _rows_after_reopen(path: Path) -> int:
    """The rows of ``metric_points`` in the file at ``path``, opened afresh."""
    reopened = Database(path)
    with reopened.read() as conn:
        row = conn.execute("SELECT count(*) FROM metric_points").fetchone()
    reopened.close()
    assert row is not None
    return int(row[0])


def _wal_past_the_threshold(path: Path) -> Database:
    """A store at the service's 1 MB threshold whose WAL is past it with no checkpoint: DuckDB
    skipping its own (played by raising DuckDB's threshold) after 60,000 appended points."""
    db = Database(path, checkpoint_threshold_mb=1)
    with db.transaction() as conn:
        conn.execute("SET checkpoint_threshold = '1GB'")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db.append("metric_points", [("cpu", start + timedelta(seconds=n), 1.0) for n in range(60_000)])
    assert db.wal_bytes() >= 1_000_000
    return db


def test_written_rows_survive_a_reopen_with_a_small_checkpoint_threshold(tmp_path: Path) -> None:
    path = tmp_path / "durable.duckdb"
    db = Database(path, checkpoint_threshold_mb=1)
    for batch in range(5):  # past the threshold: DuckDB checkpoints between the appends
        db.append(
            "metric_points",
            [("cpu", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n), 1.0)
             for n in range(batch * 20_000, (batch + 1) * 20_000)],
        )  # fmt: skip
    db.close()
    assert _rows_after_reopen(path) == 100_000


def test_a_checkpoint_duckdb_skipped_is_run_once_the_wal_is_past_the_threshold(
    tmp_path: Path,
) -> None:
    small = Database(tmp_path / "small.duckdb", checkpoint_threshold_mb=1)
    small.append("metric_points", [("cpu", datetime(2026, 1, 1, tzinfo=UTC), 1.0)])
    assert 0 < small.wal_bytes() < 1_000_000
    assert not small.checkpoint_if_due() and small.forced_checkpoints == 0  # under it
    small.close()
    path = tmp_path / "skipped.duckdb"
    db = _wal_past_the_threshold(path)
    assert db.checkpoint_if_due() and db.forced_checkpoints == 1
    assert db.wal_bytes() < 1_000_000
    db.close()
    assert _rows_after_reopen(path) == 60_000


def test_a_refused_checkpoint_is_counted_and_run_on_a_later_call(tmp_path: Path) -> None:
    # DuckDB refused the service's CHECKPOINT for up to minutes in the memory watch ("other
    # write transactions active"), a state no small test reproduced: the refusal is played
    # by a connection that refuses the first CHECKPOINT and passes everything else on.
    class RefusesOnce:
        def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
            self.connection, self.refused = connection, False

        def execute(self, statement: str, *arguments: object) -> object:
            if statement == "CHECKPOINT" and not self.refused:
                self.refused = True
                raise duckdb.TransactionException("Cannot CHECKPOINT: there are other write")
            return self.connection.execute(statement, *arguments)

        def __getattr__(self, name: str) -> object:
            return getattr(self.connection, name)

    db = _wal_past_the_threshold(tmp_path / "busy.duckdb")
    connection = db._conn
    db._conn = RefusesOnce(connection)  # type: ignore[assignment]
    assert not db.checkpoint_if_due()  # no reader's cursor to release: left to the next call
    assert (db.forced_checkpoints, db.refused_checkpoints, db.released_readers) == (0, 1, 0)
    assert db.checkpoint_if_due() and (db.forced_checkpoints, db.refused_checkpoints) == (1, 1)
    assert db.wal_bytes() < 1_000_000
    db._conn = connection
    db.close()


def test_a_refused_checkpoint_releases_idle_readers_and_runs_at_once(tmp_path: Path) -> None:
    class RefusesUntilReadersReleased:  # DuckDB's refusal while a reader's cursor held it
        def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
            self.connection = connection

        def execute(self, statement: str, *arguments: object) -> object:
            if statement == "CHECKPOINT" and db.released_readers == 0:
                raise duckdb.TransactionException("Cannot CHECKPOINT: there are other write")
            return self.connection.execute(statement, *arguments)

    db = _wal_past_the_threshold(tmp_path / "readers.duckdb")
    with db.read() as reader:  # this thread's cursor, idle after the block
        reader.execute("SELECT * FROM metric_points").fetchone()
    busy = threading.Event()
    done = threading.Event()

    def read_on_another_thread() -> None:  # a second reader, in the middle of its read
        with db.read() as other:
            other.execute("SELECT count(*) FROM metric_points").fetchall()
            busy.set()
            done.wait(10)

    thread = threading.Thread(target=read_on_another_thread)
    thread.start()
    assert busy.wait(10)
    connection = db._conn
    db._conn = RefusesUntilReadersReleased(connection)  # type: ignore[assignment]
    assert db.checkpoint_if_due()  # the idle reader released, the busy one left alone
    assert (db.forced_checkpoints, db.refused_checkpoints, db.released_readers) == (1, 0, 1)
    done.set()
    thread.join()
    with db.read() as reader:  # the released cursor still reads
        row = reader.execute("SELECT count(*) FROM metric_points").fetchone()
    assert row is not None and row[0] == 60_000
    db._conn = connection
    db.close()


def test_without_a_threshold_or_a_file_no_checkpoint_is_forced(tmp_path: Path) -> None:
    in_memory = Database(":memory:", checkpoint_threshold_mb=1)
    assert in_memory.wal_bytes() == 0 and not in_memory.checkpoint_if_due()
    in_memory.close()
    defaults = Database(tmp_path / "defaults.duckdb")  # DuckDB's own threshold, not enforced
    assert not defaults.checkpoint_if_due()
    defaults.close()


def test_a_memory_limit_below_one_mb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="memory_limit_mb"):
        Database(tmp_path / "refused.duckdb", memory_limit_mb=0)
