"""Rotation-safe log tailing with offsets that survive a restart (``tail -F`` semantics).

:class:`FileTailer` returns the complete lines appended to one file since its last call:

- rotation (the path now names a new inode: ``logrotate`` renamed the old file and created
  a new one) is noticed; the rest of the old file is read through the still-open handle,
  then the new file is read from its start;
- truncation (``copytruncate``: same inode, smaller than our offset) restarts at 0;
- a partial last line (the writer is mid-line) waits for its newline;
- a missing file is not an error: it may appear later;
- after each read the position (device, inode, offset) goes to an :class:`OffsetStore`, so a
  restarted service resumes where it stopped instead of re-reading or skipping; a saved
  position for another inode (rotated while we were down) starts the new file at 0.
  :class:`JsonOffsetStore` writes its file at most once per ``min_interval_s`` of wall time
  (and on :meth:`~FileTailer.close`): a busy log read every few seconds, or a virtual-time run
  reading it thousands of times a second, does not replace the state file on every read. A
  crash loses at most that interval's progress: those lines are read again.

Lines are decoded as UTF-8 with replacement characters, so bad bytes never raise.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

MAX_READ_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TailPosition:
    """Where reading of ``path`` stopped: which file (device, inode) and the byte offset."""

    path: str
    device: int
    inode: int
    offset: int


class OffsetStore(Protocol):
    """Keeps tail positions across restarts."""

    def load(self, path: str) -> TailPosition | None:
        """The saved position of ``path``, if any."""
        ...

    def save(self, position: TailPosition) -> None:
        """Remember ``position`` (durably)."""
        ...

    def flush(self) -> None:
        """Make every remembered position durable now."""
        ...


class MemoryOffsetStore:
    """Positions in a dict (tests, one-shot runs)."""

    def __init__(self) -> None:
        self.positions: dict[str, TailPosition] = {}

    def load(self, path: str) -> TailPosition | None:
        return self.positions.get(path)

    def save(self, position: TailPosition) -> None:
        self.positions[position.path] = position

    def flush(self) -> None:
        """Nothing to write."""


class JsonOffsetStore:
    """Positions in a small JSON state file, replaced atomically when they change, at most
    once per ``min_interval_s`` of wall time (0: on every change) and on :meth:`flush`."""

    def __init__(self, state_file: str | Path, *, min_interval_s: float = 0.0) -> None:
        self.state_file = Path(state_file)
        self.min_interval_s = min_interval_s
        self.writes = 0
        self._dirty = False
        self._written_at = -float("inf")
        self._positions: dict[str, TailPosition] = {}
        try:
            data = json.loads(self.state_file.read_text("utf-8"))
            self._positions = {key: TailPosition(**value) for key, value in data.items()}
        except FileNotFoundError:
            pass
        except (ValueError, TypeError):
            self._positions = {}  # a damaged state file: start over rather than refuse to run

    def load(self, path: str) -> TailPosition | None:
        return self._positions.get(path)

    def save(self, position: TailPosition) -> None:
        if self._positions.get(position.path) == position:
            return
        self._positions[position.path] = position
        self._dirty = True
        if time.monotonic() - self._written_at >= self.min_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the positions now if any changed since the last write."""
        if not self._dirty:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        payload = {key: asdict(value) for key, value in self._positions.items()}
        temporary.write_text(json.dumps(payload, indent=1), "utf-8")
        os.replace(temporary, self.state_file)
        self._dirty = False
        self._written_at = time.monotonic()
        self.writes += 1


class FileTailer:
    """Reads the lines appended to ``path`` (module docstring)."""

    def __init__(
        self,
        path: str | Path,
        offsets: OffsetStore | None = None,
        *,
        start_at_end: bool = False,
        max_read_bytes: int = MAX_READ_BYTES,
    ) -> None:
        self.path = str(path)
        self.offsets = offsets or MemoryOffsetStore()
        self.start_at_end = start_at_end
        self.max_read_bytes = max_read_bytes
        self.rotations = 0
        self.truncations = 0
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._offset = 0

    def read_lines(self) -> list[str]:
        """The complete lines appended since the last call (at most ``max_read_bytes``)."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return self._drain_old() if self._handle else []
        identity = (status.st_dev, status.st_ino)
        lines: list[str] = []
        if self._handle is not None and identity != self._identity:
            lines = self._drain_old()
            self.rotations += 1
            self._open(identity, 0)
        elif self._handle is None:
            self._open(identity, self._resume_offset(identity, status.st_size))
        if status.st_size < self._offset:
            self.truncations += 1
            self._offset = 0
        lines += self._read()
        self._save()
        return lines

    def __enter__(self) -> FileTailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file handle and make its position durable (the saved position stays)."""
        self.offsets.flush()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _resume_offset(self, identity: tuple[int, int], size: int) -> int:
        saved = self.offsets.load(self.path)
        if saved is not None and (saved.device, saved.inode) == identity:
            return saved.offset if saved.offset <= size else 0
        if saved is None and self.start_at_end:
            return size
        return 0

    def _open(self, identity: tuple[int, int], offset: int) -> None:
        self.close()
        try:
            self._handle = open(self.path, "rb")  # noqa: SIM115 - kept open across calls
        except FileNotFoundError:
            return
        self._identity = identity
        self._offset = offset

    def _drain_old(self) -> list[str]:
        lines = self._read()
        self.close()
        return lines

    def _read(self) -> list[str]:
        if self._handle is None:
            return []
        self._handle.seek(self._offset)
        chunk = self._handle.read(self.max_read_bytes)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) < self.max_read_bytes:
                return []  # a partial line: wait for its newline
            end = len(chunk) - 1  # one line longer than a read: pass it on as it is
        complete = chunk[: end + 1]
        self._offset += len(complete)
        text = complete.decode("utf-8", errors="replace")
        return [line.rstrip("\r") for line in text.removesuffix("\n").split("\n")]

    def _save(self) -> None:
        if self._identity is not None:
            device, inode = self._identity
            self.offsets.save(TailPosition(self.path, device, inode, self._offset))
