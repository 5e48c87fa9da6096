"""What a parser says about a line that gave no record, and the counts a source keeps.

A line is either a :class:`~selfheal_ml.security.records.LogRecord`, ``Skip.IGNORED`` (the
line is well formed but says nothing about security: a disconnect, a session opened) or
``Skip.MALFORMED`` (the line does not fit the format at all). Parsers never raise on input:
a bad line is counted and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Skip(Enum):
    """Why a line produced no record."""

    IGNORED = "ignored"
    MALFORMED = "malformed"


@dataclass(slots=True)
class ParseStats:
    """How many lines a source read, turned into records, ignored and rejected.

    >>> stats = ParseStats()
    >>> stats.lines, stats.malformed
    (0, 0)
    """

    lines: int = 0
    records: int = 0
    ignored: int = 0
    malformed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as plain data (for reports and JSON output)."""
        return {
            "lines": self.lines,
            "records": self.records,
            "ignored": self.ignored,
            "malformed": self.malformed,
        }
