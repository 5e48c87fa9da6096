"""Benchmark: log lines parsed per second, against a naive parser timed in the same run.

The baseline ("naive: regex list + strptime") is how such a parser is usually first written:
every line is tried against one full-line regex per message type in turn, and the timestamp
goes through ``datetime.strptime``. Ours dispatches on the message's first characters, reads
the fixed-width stamp by slicing (cached per second) and builds named tuples.

Rates are lines per CPU second of the test process (``time.process_time``; the machine is
shared, so wall time also counts other processes) and, printed beside them, per wall second.
Inputs: the shared OpenSSH log repeated to 100k lines (synthetic sshd lines when the data set
is absent), 100k synthetic combined access-log lines and 100k JSON lines. Asserted: at least
100k lines/s for each format. See docs/benchmarks.md ("Issue 13: log parsing").

Run: .venv/bin/pytest tests/benchmarks/test_log_parse_speed.py -m benchmark -s \
    -p no:cacheprovider
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfheal_ml.security.formats import LogFormat, LogParser

pytestmark = pytest.mark.benchmark

LINES = 100_000
TARGET_PER_S = 100_000
SHARED_LOG = (
    Path(__file__).resolve().parents[2].parent
    / "shared/datasets/security/loghub_openssh/OpenSSH_2k.log"
)
REFERENCE = datetime(2026, 12, 31, tzinfo=UTC)

_NAIVE_SSHD = [
    re.compile(
        r"^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: Failed (\S+) for (invalid user )?(.*?)"
        r" from (\S+) port \d+"
    ),
    re.compile(r"^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: Accepted \S+ for (.*?) from (\S+)"),
    re.compile(r"^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: Invalid user (.*?) from (\S+)"),
    re.compile(r"^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: message repeated (\d+) times: \[ (.*)\]"),
    re.compile(r"^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: pam_unix\(.*rhost=(\S*)"),
]
_NAIVE_COMBINED = re.compile(
    r'^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "[^"]*"$'
)


def naive_sshd(line: str) -> tuple[datetime, tuple[str | None, ...]] | None:
    """The baseline for syslog auth lines."""
    for pattern in _NAIVE_SSHD:
        match = pattern.match(line)
        if match:
            stamp = datetime.strptime(f"2026 {match.group(1)}", "%Y %b %d %H:%M:%S")
            return stamp.replace(tzinfo=UTC), match.groups()
    return None


def naive_combined(line: str) -> tuple[datetime, tuple[str | None, ...]] | None:
    """The baseline for access-log lines."""
    match = _NAIVE_COMBINED.match(line)
    if match is None:
        return None
    return datetime.strptime(match.group(3), "%d/%b/%Y:%H:%M:%S %z"), match.groups()


def sshd_lines() -> list[str]:
    if SHARED_LOG.exists():
        base = SHARED_LOG.read_text("utf-8").splitlines()
    else:
        base = [
            f"Dec 10 07:{minute % 60:02d}:{minute % 57:02d} host sshd[{minute}]: Failed password"
            f" for invalid user u{minute} from 192.0.2.{minute % 250} port 4{minute:04d} ssh2"
            for minute in range(2000)
        ]
    return (base * (LINES // len(base) + 1))[:LINES]


def combined_lines() -> list[str]:
    return [
        f"203.0.113.{index % 250} - - [10/Oct/2026:13:{index % 60:02d}:{index % 59:02d} -0700]"
        f' "GET /api/items?page={index} HTTP/1.1" {200 if index % 9 else 404} 512 "-" "Mozilla/5.0"'
        for index in range(LINES)
    ]


def json_lines() -> list[str]:
    return [
        f'{{"time": "2026-12-10T06:{index % 60:02d}:{index % 59:02d}Z", "ip":'
        f' "198.51.100.{index % 200}", "user": "u{index % 30}", "event": "login_failed"}}'
        for index in range(LINES)
    ]


def rate(parse: Callable[[list[str]], object], lines: list[str]) -> tuple[float, float]:
    """Lines per CPU second of this process and per wall-clock second.

    The CPU rate is what the assertion uses: the machine is shared, and the wall-clock rate
    also measures whatever else runs on the same cores at the time.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    parse(lines)
    return len(lines) / (time.process_time() - cpu), len(lines) / (time.perf_counter() - wall)


def ours(log_format: LogFormat) -> Callable[[list[str]], object]:
    def run(lines: list[str]) -> object:
        return list(LogParser(log_format, REFERENCE).parse_lines(lines))

    return run


@pytest.mark.parametrize(
    ("log_format", "make_lines", "naive"),
    [
        (LogFormat.SSHD, sshd_lines, naive_sshd),
        (LogFormat.COMBINED, combined_lines, naive_combined),
        (LogFormat.JSONL, json_lines, None),
    ],
)
def test_parse_rate(
    log_format: LogFormat,
    make_lines: Callable[[], list[str]],
    naive: Callable[[str], object] | None,
) -> None:
    lines = make_lines()
    best, best_wall = max(rate(ours(log_format), lines) for _ in range(3))
    message = f"\n{log_format.value:>8}: ours {best:,.0f} lines/CPU-s ({best_wall:,.0f}/wall-s)"
    if naive is not None:
        baseline, baseline_wall = max(
            rate(lambda batch: [naive(line) for line in batch], lines) for _ in range(3)
        )
        message += (
            f", naive: regex list + strptime {baseline:,.0f} lines/CPU-s"
            f" ({baseline_wall:,.0f}/wall-s), ratio {best / baseline:.1f}x"
        )
    print(message + f" ({len(lines):,} lines, best of 3)")
    assert best >= TARGET_PER_S
