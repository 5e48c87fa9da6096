"""Parsers: every documented line shape, the year rule, auto detection, bad input counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.security.access_log import CombinedParser
from selfheal_ml.security.formats import LogFormat, LogParser, detect_format
from selfheal_ml.security.json_lines import JsonLinesParser
from selfheal_ml.security.outcomes import Skip
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.syslog_auth import PamParser, SshdParser
from selfheal_ml.security.syslog_time import SyslogTime

REFERENCE = datetime(2026, 12, 31, tzinfo=UTC)
PREFIX = "Dec 10 07:13:43 LabSZ sshd[24227]: "


def sshd(message: str) -> LogRecord | Skip:
    return SshdParser(REFERENCE).parse(PREFIX + message)


def test_failed_password_for_a_known_user() -> None:
    record = sshd("Failed password for root from 5.36.59.76 port 42393 ssh2")
    assert isinstance(record, LogRecord)
    assert (record.kind, record.user, record.source_ip, record.unknown_user) == (
        EventKind.LOGIN_FAILED,
        "root",
        "5.36.59.76",
        False,
    )
    assert record.time == datetime(2026, 12, 10, 7, 13, 43, tzinfo=UTC)
    assert record.raw.endswith("ssh2")


def test_failed_none_counts_but_publickey_does_not() -> None:
    record = sshd("Failed none for invalid user 0 from 5.188.10.180 port 49811 ssh2")
    assert isinstance(record, LogRecord) and record.is_failure and record.unknown_user
    assert sshd("Failed publickey for bob from 10.0.0.1 port 22 ssh2") is Skip.IGNORED


def test_accepted_and_invalid_user() -> None:
    accepted = sshd("Accepted password for fztu from 119.137.62.142 port 49116 ssh2")
    assert isinstance(accepted, LogRecord)
    assert (accepted.kind, accepted.user, accepted.source_ip) == (
        EventKind.LOGIN_OK,
        "fztu",
        "119.137.62.142",
    )
    invalid = sshd("Invalid user webmaster from 173.234.31.186")
    assert isinstance(invalid, LogRecord)
    assert invalid.kind is EventKind.INVALID_USER and invalid.user == "webmaster"


def test_message_repeated_counts_the_inner_failure_n_times() -> None:
    record = sshd(
        "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 1 ssh2]"
    )
    assert isinstance(record, LogRecord)
    assert record.is_failure and record.occurrences == 5 and record.source_ip == "5.36.59.76"


def test_pam_lines_are_echoes_in_an_sshd_log_and_failures_in_a_pam_log() -> None:
    line = (
        "Dec 10 07:13:31 LabSZ sshd[24227]: pam_unix(sshd:auth): authentication failure;"
        " logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76  user=root"
    )
    echo = SshdParser(REFERENCE).parse(line)
    assert isinstance(echo, LogRecord) and echo.kind is EventKind.AUTH_FAILURE
    failure = PamParser(REFERENCE).parse(line)
    assert isinstance(failure, LogRecord)
    assert (failure.kind, failure.source_ip, failure.user) == (
        EventKind.LOGIN_FAILED,
        "5.36.59.76",
        "root",
    )
    more = PamParser(REFERENCE).parse(
        "Dec 10 08:25:22 LabSZ sshd[24369]: PAM 4 more authentication failures; logname= uid=0"
        " euid=0 tty=ssh ruser= rhost=5.188.10.180 "
    )
    assert (
        isinstance(more, LogRecord) and more.occurrences == 4 and more.source_ip == "5.188.10.180"
    )


def test_su_pam_failure_without_rhost() -> None:
    record = PamParser(REFERENCE).parse(
        "Mar  3 10:00:00 box su: pam_unix(su:auth): authentication failure; logname=bob uid=1000"
        " euid=0 tty=pts/0 ruser=bob rhost=  user=root"
    )
    assert isinstance(record, LogRecord)
    assert record.source_ip == "" and record.user == "root"
    assert record.time == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_rfc3339_syslog_header() -> None:
    record = SshdParser(REFERENCE).parse(
        "2026-12-10T07:13:43.5+01:00 host sshd[1]: Failed password for root from 192.0.2.4"
        " port 2 ssh2"
    )
    assert isinstance(record, LogRecord)
    assert record.time == datetime(2026, 12, 10, 6, 13, 43, 500000, tzinfo=UTC)


def test_year_rolls_over_from_december_to_january() -> None:
    clock = SyslogTime(datetime(2027, 1, 2, tzinfo=UTC))
    stamps = ["Dec 31 23:59:59", "Jan  1 00:00:00", "Jan  1 00:00:05"]
    years = [parsed.year for stamp in stamps if (parsed := clock.parse(stamp))]
    assert years == [2026, 2027, 2027]


def test_year_of_a_month_before_the_reference_is_the_reference_year() -> None:
    assert SyslogTime(datetime(2026, 12, 31, tzinfo=UTC)).parse("Mar  1 00:00:00") == datetime(
        2026, 3, 1, tzinfo=UTC
    )


def test_combined_line_with_offset_and_query() -> None:
    record = CombinedParser().parse(
        '198.51.100.3 - - [02/Dec/2026:08:00:00 +0100] "GET /search?q=%27+OR+1%3D1 HTTP/1.1"'
        ' 403 0 "-" "sqlmap/1.7"'
    )
    assert isinstance(record, LogRecord)
    assert record.time == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert (record.method, record.path, record.status) == ("GET", "/search?q=%27+OR+1%3D1", 403)


def test_json_lines_fields_and_defaults() -> None:
    parser = JsonLinesParser()
    record = parser.parse(
        '{"time": 1796000000, "ip": "192.0.2.9", "api_key": "k1", "method": "POST",'
        ' "path": "/v1/orders", "status": 201, "body": "{}", "extra": 1}'
    )
    assert isinstance(record, LogRecord)
    assert (record.kind, record.api_key, record.status, record.body) == (
        EventKind.REQUEST,
        "k1",
        201,
        "{}",
    )
    assert record.time == datetime.fromtimestamp(1796000000, UTC)


@pytest.mark.parametrize(
    "line",
    [
        "[]",
        "{}",
        '{"time": "yesterday", "event": "login_failed"}',
        '{"time": 1, "event": "x"}',
        "{",
    ],
)
def test_json_lines_malformed(line: str) -> None:
    assert JsonLinesParser().parse(line) is Skip.MALFORMED


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([PREFIX + "Failed password for root from 192.0.2.1 port 2 ssh2"], LogFormat.SSHD),
        (
            ["Mar  3 10:00:00 box su: pam_unix(su:auth): authentication failure; rhost= user=x"],
            LogFormat.PAM,
        ),
        (
            ['192.0.2.1 - - [02/Dec/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"'],
            LogFormat.COMBINED,
        ),
        (['{"time": 1, "event": "login_ok"}'], LogFormat.JSONL),
        (["hello", "world"], None),
    ],
)
def test_detect_format(lines: list[str], expected: LogFormat | None) -> None:
    assert detect_format(lines) is expected


def test_auto_parser_counts_malformed_and_ignored_lines() -> None:
    parser = LogParser(LogFormat.AUTO, REFERENCE)
    lines = [
        PREFIX + "Failed password for root from 192.0.2.1 port 2 ssh2\n",
        PREFIX + "Connection closed by 192.0.2.1 [preauth]\n",
        "\x00\xff garbage\n",
        "",
    ]
    records = list(parser.parse_lines(lines))
    assert [record.source_ip for record in records] == ["192.0.2.1"]
    assert parser.detected is LogFormat.SSHD
    assert parser.stats.as_dict() == {"lines": 4, "records": 1, "ignored": 1, "malformed": 2}


@given(st.text(max_size=300))
@pytest.mark.parametrize("log_format", [f for f in LogFormat if f is not LogFormat.AUTO])
def test_no_line_makes_a_parser_raise(log_format: LogFormat, line: str) -> None:
    parser = LogParser(log_format, REFERENCE)
    list(parser.parse_lines([line]))
    assert parser.stats.lines == 1
