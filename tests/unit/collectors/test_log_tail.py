"""FileTailer: appends, partial lines, rotation, truncation, resume after a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from selfheal_ml.collectors.log_tail import (
    FileTailer,
    JsonOffsetStore,
    MemoryOffsetStore,
    OffsetStore,
)

_OPENED: list[FileTailer] = []


@pytest.fixture(autouse=True)
def _close_tailers() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def tail(
    path: Path,
    offsets: OffsetStore | None = None,
    *,
    start_at_end: bool = False,
    max_read_bytes: int = 4096,
) -> FileTailer:
    """A tailer closed at the end of the test."""
    tailer = FileTailer(path, offsets, start_at_end=start_at_end, max_read_bytes=max_read_bytes)
    _OPENED.append(tailer)
    return tailer


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def test_reads_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    append(log, "one\ntwo\npart")
    tailer = tail(log)
    assert tailer.read_lines() == ["one", "two"]
    assert tailer.read_lines() == []
    append(log, "ial\r\nthree\n")
    assert tailer.read_lines() == ["partial", "three"]


def test_missing_file_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    tailer = tail(log)
    assert tailer.read_lines() == []
    append(log, "hello\n")
    assert tailer.read_lines() == ["hello"]


def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    append(log, "a\n")
    tailer = tail(log)
    assert tailer.read_lines() == ["a"]
    append(log, "b\n")  # written just before logrotate renames the file
    os.rename(log, tmp_path / "access.log.1")
    append(log, "c\n")
    assert tailer.read_lines() == ["b", "c"]
    assert tailer.rotations == 1


def test_copytruncate_restarts_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, "first line\nsecond line\n")
    tailer = tail(log)
    assert len(tailer.read_lines()) == 2
    log.write_text("new\n", "utf-8")  # truncated in place, then written
    assert tailer.read_lines() == ["new"]
    assert tailer.truncations == 1


def test_restart_resumes_from_the_saved_offset(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    state = tmp_path / "state" / "offsets.json"
    append(log, "one\ntwo\n")
    first = tail(log, JsonOffsetStore(state))
    assert first.read_lines() == ["one", "two"]
    first.close()
    append(log, "three\n")
    second = tail(log, JsonOffsetStore(state))  # a new process reads the state file
    assert second.read_lines() == ["three"]


def test_rotated_while_down_starts_the_new_file_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    offsets = MemoryOffsetStore()
    append(log, "old 1\nold 2\n")
    tail(log, offsets).read_lines()
    os.rename(log, tmp_path / "auth.log.1")
    append(log, "new 1\n")
    assert tail(log, offsets).read_lines() == ["new 1"]


def test_start_at_end_skips_history_only_without_a_saved_position(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    append(log, "history\n")
    tailer = tail(log, start_at_end=True)
    assert tailer.read_lines() == []
    append(log, "live\n")
    assert tailer.read_lines() == ["live"]


def test_bad_bytes_and_overlong_lines_never_raise(tmp_path: Path) -> None:
    log = tmp_path / "bin.log"
    log.write_bytes(b"\xff\xfe ok\n" + b"x" * 100)
    tailer = tail(log, max_read_bytes=64)
    lines = tailer.read_lines()
    assert lines == ["\ufffd\ufffd ok"]
    assert tailer.read_lines() == ["x" * 64]


def test_damaged_state_file_starts_over(tmp_path: Path) -> None:
    state = tmp_path / "offsets.json"
    state.write_text("{not json", "utf-8")
    log = tmp_path / "a.log"
    append(log, "x\n")
    assert tail(log, JsonOffsetStore(state)).read_lines() == ["x"]


def test_offsets_are_written_at_most_once_per_interval_and_on_close(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    state = tmp_path / "offsets.json"
    store = JsonOffsetStore(state, min_interval_s=3600.0)
    tailer = tail(log, store)
    append(log, "one\n")
    assert tailer.read_lines() == ["one"]
    assert store.writes == 1  # the first change is written at once
    for line in ("two", "three"):
        append(log, line + "\n")
        assert tailer.read_lines() == [line]
    assert store.writes == 1
    assert tail(log, JsonOffsetStore(state)).read_lines() == ["two", "three"]  # after a crash
    tailer.read_lines()  # nothing new: nothing to write
    tailer.close()
    assert store.writes == 2
    append(log, "four\n")
    assert tail(log, JsonOffsetStore(state)).read_lines() == ["four"]
