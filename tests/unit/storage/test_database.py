"""Database: numbered migrations applied exactly once, re-opening applies nothing, and a
transaction that raises leaves no trace."""

from __future__ import annotations

from pathlib import Path

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


def test_a_memory_limit_below_one_mb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="memory_limit_mb"):
        Database(tmp_path / "refused.duckdb", memory_limit_mb=0)
