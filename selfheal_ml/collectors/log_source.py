"""A configured log source: a tailed file read through its format's parser.

:class:`LogSource` joins the rotation-safe :class:`FileTailer` (I/O, here) and the pure
:class:`~selfheal_ml.security.formats.LogParser` (the domain): each call returns the records
of the lines appended since the last one, and the parser's counts say how many lines were
malformed or ignored, per source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from selfheal_ml.collectors.log_tail import FileTailer, OffsetStore
from selfheal_ml.security.formats import LogFormat, LogParser
from selfheal_ml.security.records import LogRecord


@dataclass(frozen=True)
class LogSourceSpec:
    """Where a source is and how to read it (from ``[[security.sources]]``)."""

    path: str
    log_format: LogFormat = LogFormat.AUTO
    platform: str = ""


class LogSource:
    """Reads new records from one log file."""

    def __init__(
        self,
        spec: LogSourceSpec,
        offsets: OffsetStore | None,
        reference: datetime,
        *,
        start_at_end: bool = True,
    ) -> None:
        self.spec = spec
        # a file never read before is followed from its end: its history is not live traffic
        self.tailer = FileTailer(spec.path, offsets, start_at_end=start_at_end)
        self.parser = LogParser(spec.log_format, reference)

    def read_records(self) -> list[LogRecord]:
        """The records of the lines appended since the last call (the source's ``platform``
        on those whose line does not name one)."""
        records = list(self.parser.parse_lines(self.tailer.read_lines()))
        platform = self.spec.platform
        if not platform:
            return records
        return [r if r.platform else r._replace(platform=platform) for r in records]

    def close(self) -> None:
        """Release the file handle."""
        self.tailer.close()


OFFSETS_SUFFIX = ".security_offsets.json"


def offsets_file(db_path: str) -> Path:
    """Where tail offsets live: beside the DuckDB file and named after it
    (``data/selfheal.duckdb`` -> ``data/selfheal.security_offsets.json``), so two processes
    with their own files in one directory keep their own positions. An install that still has
    the older shared ``security_offsets.json`` and not its own file goes on with that one."""
    if db_path == ":memory:":
        return Path("data") / "security_offsets.json"
    path = Path(db_path)
    own = path.with_name(path.stem + OFFSETS_SUFFIX)
    shared = path.parent / "security_offsets.json"
    return shared if shared.exists() and not own.exists() else own
