"""Database.append: rows appended in one statement are committed on return, a refused append
keeps none of its rows and is counted, and inside a transaction it rolls back with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from selfheal_ml.storage.database import Database

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ROW = ("a", T0, 1.0, 0.0, 0.5, False, None, 2.0)


def _stored(db: Database) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return conn.execute("SELECT * FROM anomaly_scores ORDER BY series").fetchall()


def test_appended_rows_are_committed_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "append.duckdb"
    db = Database(path)
    assert db.append("anomaly_scores", [ROW, ("b", T0, 2.0, 1.0, 1.5, True, 0.5, None)]) == 2
    assert db.append("anomaly_scores", []) == 0
    db.close()
    reopened = Database(path, read_only=True)
    assert _stored(reopened) == [ROW, ("b", T0, 2.0, 1.0, 1.5, True, 0.5, None)]
    reopened.close()


@pytest.mark.parametrize(
    "bad",
    [
        (None, T0, 1.0, 0.0, 0.5, False, None, 2.0),  # NOT NULL series
        ("b", T0, "many", 0.0, 0.5, False, None, 2.0),  # not a number
        ("b", T0, 1.0),  # too few values
    ],
)
def test_a_refused_append_keeps_none_of_its_rows(tmp_path: Path, bad: tuple[object, ...]) -> None:
    db = Database(tmp_path / "refused.duckdb")
    with pytest.raises(duckdb.Error):
        db.append("anomaly_scores", [ROW, bad])
    assert db.failed_writes == 1
    assert _stored(db) == []
    db.append("anomaly_scores", [ROW])  # the rows before the bad one were not kept either
    assert _stored(db) == [ROW]
    db.close()


def test_an_append_inside_a_transaction_rolls_back_with_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "rollback.duckdb")
    with pytest.raises(RuntimeError), db.transaction():
        db.append("anomaly_scores", [ROW])
        assert len(_stored(db)) == 1  # the transaction sees its own rows
        raise RuntimeError("the block failed")
    assert _stored(db) == []
    assert db.failed_writes == 0  # not DuckDB's refusal
    db.close()
