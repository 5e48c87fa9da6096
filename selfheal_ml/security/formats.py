"""Log formats by name, ``auto`` detection, and a counting front end over the parsers.

>>> from datetime import datetime, UTC
>>> lines = [
...     "Dec 10 06:55:48 LabSZ sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2",
...     "not a log line",
... ]
>>> detect_format(lines)
<LogFormat.SSHD: 'sshd'>
>>> parser = LogParser(LogFormat.AUTO, reference=datetime(2026, 12, 31, tzinfo=UTC))
>>> [record.source_ip for record in parser.parse_lines(lines)]
['192.0.2.1']
>>> parser.stats.as_dict()
{'lines': 2, 'records': 1, 'ignored': 0, 'malformed': 1}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from selfheal_ml.security.access_log import CombinedParser
from selfheal_ml.security.json_lines import JsonLinesParser
from selfheal_ml.security.outcomes import ParseStats, Skip
from selfheal_ml.security.records import LogRecord
from selfheal_ml.security.syslog_auth import PamParser, SshdParser

SNIFF_LINES = 50


class LogFormat(StrEnum):
    """The formats a source can be read as."""

    AUTO = "auto"
    SSHD = "sshd"
    PAM = "pam"
    COMBINED = "combined"
    JSONL = "jsonl"


class LineParser(Protocol):
    """Anything that turns one line into a record or says why not (never raises)."""

    def parse(self, line: str) -> LogRecord | Skip:
        """One line: a record, ``Skip.IGNORED`` or ``Skip.MALFORMED``."""
        ...


def make_parser(log_format: LogFormat, reference: datetime) -> LineParser:
    """The parser for a concrete format; ``reference`` dates year-less syslog stamps."""
    if log_format is LogFormat.SSHD:
        return SshdParser(reference)
    if log_format is LogFormat.PAM:
        return PamParser(reference)
    if log_format is LogFormat.COMBINED:
        return CombinedParser()
    if log_format is LogFormat.JSONL:
        return JsonLinesParser()
    raise ValueError(f"log_format: expected a concrete format, got {log_format!r}")


def _sniff_one(line: str) -> LogFormat | None:
    if line.startswith("{"):
        return LogFormat.JSONL
    if '] "' in line and CombinedParser().parse(line) is not Skip.MALFORMED:
        return LogFormat.COMBINED
    if " sshd[" in line or " sshd: " in line:
        return None if "pam_unix(" in line or ": PAM " in line else LogFormat.SSHD
    if "pam_unix(" in line:
        return LogFormat.PAM
    return None


def detect_format(lines: Iterable[str]) -> LogFormat | None:
    """The format most of the first :data:`SNIFF_LINES` lines look like (``None``: none).

    A syslog file with sshd's own messages is read as ``sshd`` even when PAM lines outnumber
    them, because sshd's lines carry the address and PAM's repeat them.
    """
    votes: Counter[LogFormat] = Counter()
    pam_lines = 0
    for number, line in enumerate(lines):
        if number >= SNIFF_LINES:
            break
        found = _sniff_one(line)
        if found is not None:
            votes[found] += 1
        elif "pam_unix(" in line:
            pam_lines += 1
    if not votes:
        return LogFormat.PAM if pam_lines else None
    return votes.most_common(1)[0][0]


class LogParser:
    """Parses a stream of lines in one format, counting what it read, kept and skipped.

    With :attr:`LogFormat.AUTO` the first lines are buffered until the format is known.
    """

    def __init__(self, log_format: LogFormat, reference: datetime) -> None:
        self.log_format = log_format
        self.reference = reference
        self.stats = ParseStats()
        self._parser = None if log_format is LogFormat.AUTO else make_parser(log_format, reference)
        self._pending: list[str] = []

    @property
    def detected(self) -> LogFormat | None:
        """The format in use (``None`` while ``auto`` is still sniffing)."""
        return None if self._parser is None else self.log_format

    def parse_lines(self, lines: Iterable[str]) -> Iterator[LogRecord]:
        """The records of ``lines`` (trailing newlines are stripped); call again to go on."""
        for line in lines:
            if self._parser is None:
                self._pending.append(line)
                if len(self._pending) < SNIFF_LINES:
                    continue
                yield from self._settle()
            else:
                record = self._one(self._parser, line)
                if record is not None:
                    yield record
        if self._parser is None and self._pending:
            yield from self._settle()

    def _settle(self) -> Iterator[LogRecord]:
        pending, self._pending = self._pending, []
        found = detect_format(line.rstrip("\r\n") for line in pending)
        if found is None:
            self.stats.lines += len(pending)
            self.stats.malformed += len(pending)
            return
        self.log_format = found
        parser = self._parser = make_parser(found, self.reference)
        for line in pending:
            record = self._one(parser, line)
            if record is not None:
                yield record

    def _one(self, parser: LineParser, line: str) -> LogRecord | None:
        stats = self.stats
        stats.lines += 1
        outcome = parser.parse(line.rstrip("\r\n"))
        if outcome is Skip.MALFORMED:
            stats.malformed += 1
            return None
        if outcome is Skip.IGNORED:
            stats.ignored += 1
            return None
        stats.records += 1
        return outcome
