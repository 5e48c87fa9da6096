"""AnomalyStore: score rows given as tuples land exactly like ScoredPoint objects; the newest
scores are read from the noted round before the stored rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from selfheal_ml.storage.anomalies import AnomalyStore, ScoredPoint
from selfheal_ml.storage.database import Database

START = datetime(2026, 1, 5, tzinfo=UTC)


def _points() -> list[ScoredPoint]:
    return [
        ScoredPoint(
            series="api.latency_ms",
            ts=START + timedelta(minutes=step),
            value=100.0 + step,
            score=0.5 * step,
            calibrated=float(step),
            is_anomaly=step == 2,
            expected_low=None if step == 0 else 90.0,
            expected_high=None if step == 0 else 110.0 + step,
        )
        for step in range(3)
    ]


def test_score_rows_and_scored_points_store_the_same(tmp_path: Path) -> None:
    points = _points()
    by_objects = AnomalyStore(Database(tmp_path / "objects.duckdb"))
    by_rows = AnomalyStore(Database(tmp_path / "rows.duckdb"))
    assert by_objects.append_scores(points) == len(points)
    rows = [
        (p.series, p.ts, p.value, p.score, p.calibrated, p.is_anomaly, p.expected_low,
         p.expected_high)
        for p in points
    ]  # fmt: skip
    assert by_rows.append_score_rows(rows) == len(points)
    end = START + timedelta(hours=1)
    stored = by_rows.scores("api.latency_ms", START, end)
    assert stored == by_objects.scores("api.latency_ms", START, end)
    assert stored == points


def test_no_rows_write_nothing(tmp_path: Path) -> None:
    store = AnomalyStore(Database(tmp_path / "empty.duckdb"))
    assert store.append_score_rows([]) == 0
    assert store.scores("api.latency_ms", START, START + timedelta(hours=1)) == []


def test_latest_scores_see_a_noted_round_before_it_is_written(db_path: Path) -> None:
    """A batching writer holds rows back; the round noted in this process is read first, the
    stored rows fill in the rest, and nothing outside the window counts."""
    database = Database(db_path)
    store = AnomalyStore(database)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    stored = ("a", t0, 1.0, 0.0, 0.5, False, 0.0, 2.0)
    store.append_score_rows([stored, ("b", t0, 5.0, 0.0, 0.5, False, 0.0, 2.0)])
    store.note_latest([("a", t0 + timedelta(minutes=1), 9.0, 0.1, 3.0, False, 0.0, 2.0)])
    window = (t0 - timedelta(minutes=3), t0 + timedelta(minutes=1))
    latest = store.latest_scores(["a", "b", "c"], *window)
    assert {series: point.value for series, point in latest.items()} == {"a": 9.0, "b": 5.0}
    before = store.latest_scores(["a"], t0 - timedelta(minutes=3), t0)  # noted row is later
    assert before["a"].value == 1.0
    database.close()


def test_values_are_the_stored_rows_then_a_newer_noted_round(db_path: Path) -> None:
    """One series' stored values oldest first, the noted round appended once (not when it is
    already stored), nothing outside the window, and an unknown series absent."""
    database = Database(db_path)
    store = AnomalyStore(database)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rows = [
        ("a", t0 + timedelta(minutes=k), float(k), 0.0, 0.0, False, 0.0, 1.0) for k in (2, 0, 1)
    ]
    store.append_score_rows([*rows, ("b", t0, 7.0, 0.0, 0.0, False, 0.0, 1.0)])
    store.note_latest([("a", t0 + timedelta(minutes=3), 9.0, 0.0, 0.0, False, 0.0, 1.0)])
    store.note_latest([("b", t0, 7.0, 0.0, 0.0, False, 0.0, 1.0)])
    found = store.values(["a", "b", "c"], t0 + timedelta(minutes=1), t0 + timedelta(minutes=3))
    assert [value for _, value in found["a"]] == [1.0, 2.0, 9.0]
    assert "b" not in found and "c" not in found
    assert [value for _, value in store.values(["b"], t0, t0)["b"]] == [7.0]
    database.close()
