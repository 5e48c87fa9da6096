"""Scenario 3's access log: one per run, beside and named after the run's DuckDB file."""

from __future__ import annotations

from pathlib import Path

from selfheal_ml.attack_scenario import access_log_path, attack_settings
from selfheal_ml.config import Settings


def test_two_runs_in_one_directory_never_read_each_other_s_attacks(tmp_path: Path) -> None:
    """Two chaos runs with their stores in one directory shared ``attack_access.jsonl`` (and
    their tail offsets) until 2026-12-06: each Security agent read the other run's attacks and
    banned addresses its own scenario never used (Scenario 3's "unknown" wrong blocks)."""
    first = attack_settings(Settings(db_path=str(tmp_path / "a.duckdb")))
    first_log = access_log_path(first.db_path)
    first_log.write_text('{"ip": "203.0.113.1"}\n', "utf-8")  # the first run is under way
    second = attack_settings(Settings(db_path=str(tmp_path / "b.duckdb")))
    ((first_source,), (second_source,)) = (first.security.sources, second.security.sources)
    assert first_source.path == str(tmp_path / "a.attack_access.jsonl") == str(first_log)
    assert second_source.path == str(tmp_path / "b.attack_access.jsonl")
    assert first_log.read_text("utf-8") == '{"ip": "203.0.113.1"}\n'  # not emptied by the second
    assert Path(second_source.path).read_text("utf-8") == ""
