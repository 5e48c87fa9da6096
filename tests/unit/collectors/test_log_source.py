"""Where a process keeps its log tail offsets: its own file, beside and named after its DuckDB."""

from __future__ import annotations

from pathlib import Path

from selfheal_ml.collectors.log_source import offsets_file


def test_two_stores_in_one_directory_keep_their_own_offsets(tmp_path: Path) -> None:
    first = offsets_file(str(tmp_path / "api.duckdb"))
    second = offsets_file(str(tmp_path / "edge.duckdb"))
    assert first == tmp_path / "api.security_offsets.json"
    assert second == tmp_path / "edge.security_offsets.json"


def test_an_install_with_the_older_shared_file_goes_on_with_it(tmp_path: Path) -> None:
    shared = tmp_path / "security_offsets.json"
    shared.write_text("{}", "utf-8")
    assert offsets_file(str(tmp_path / "selfheal.duckdb")) == shared
    own = tmp_path / "selfheal.security_offsets.json"
    own.write_text("{}", "utf-8")  # once it has its own, that one wins
    assert offsets_file(str(tmp_path / "selfheal.duckdb")) == own


def test_an_in_memory_store_uses_the_data_directory() -> None:
    assert offsets_file(":memory:") == Path("data") / "security_offsets.json"
