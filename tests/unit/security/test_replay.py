"""Replay: decisions and unblocked sources from a small mixed log, JSON shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from selfheal_ml.security.ban_policy import BanPolicy, BanSettings, DecisionAction
from selfheal_ml.security.formats import LogFormat
from selfheal_ml.security.replay import replay_lines
from selfheal_ml.security.replay_text import render_text

REFERENCE = datetime(2026, 12, 31, tzinfo=UTC)


def auth_log() -> list[str]:
    lines = [
        f"Dec 10 07:0{i}:00 h sshd[{i}]: Failed password for root from 192.0.2.7 port 2 ssh2"
        for i in range(5)
    ]
    lines += [
        "Dec 10 07:09:00 h sshd[9]: Accepted password for ann from 192.0.2.8 port 3 ssh2",
        "Dec 10 07:09:01 h sshd[9]: Failed password for root from 127.0.0.1 port 3 ssh2",
        "garbage",
    ]
    lines += [
        f"Dec 10 07:1{i}:00 h sshd[{i}]: Failed password for root from 127.0.0.1 port 2 ssh2"
        for i in range(5)
    ]
    return lines


def test_replay_blocks_the_attacker_not_the_user_nor_loopback() -> None:
    report = replay_lines(auth_log(), reference=REFERENCE)
    assert report.log_format is LogFormat.SSHD
    assert [(d.value, d.action) for d in report.blocked] == [("192.0.2.7", DecisionAction.BAN)]
    refused = [d for d in report.decisions if d.action is DecisionAction.REFUSED]
    assert [d.value for d in refused] == ["127.0.0.1"]
    assert {s.source for s in report.unblocked} == {"192.0.2.8", "127.0.0.1"}
    assert report.stats.malformed == 1


def test_replay_json_has_first_seen_and_blocked_at() -> None:
    policy = BanPolicy(BanSettings(dry_run=True))
    report = replay_lines(auth_log(), reference=REFERENCE, policy=policy)
    data = json.loads(json.dumps(report.as_dict()))
    first = data["decisions"][0]
    assert first["source"] == "192.0.2.7" and first["action"] == "would_ban"
    assert first["first_seen"] == "2026-12-10T07:00:00+00:00"
    assert first["blocked_at"] == "2026-12-10T07:04:00+00:00"
    assert first["event_count"] == 5
    assert data["lines"]["lines"] == len(auth_log())


def test_replay_of_json_lines_bans_the_addresses_of_an_account_finding_not_the_account() -> None:
    lines = [
        json.dumps(
            {
                "time": f"2026-12-10T07:00:{second:02d}Z",
                "ip": f"198.51.100.{second}",
                "user": "alice",
                "event": "login_failed",
            }
        )
        for second in range(11)
    ]
    lines.append('{"time": "2026-12-10T07:01:00Z", "ip": "198.51.100.200", "event": "login_ok"}')
    report = replay_lines(lines, reference=REFERENCE, log_format=LogFormat.JSONL)
    # the eleven addresses failing alice's account, named when the account's bucket overflowed
    banned = {decision.value for decision in report.decisions}
    assert banned == {f"198.51.100.{second}" for second in range(11)}
    data = report.as_dict()
    assert [(f["kind"], f["value"]) for f in data["findings_not_banned"]] == [
        ("distributed_brute_force", "alice")
    ]
    assert len(data["unblocked"]) == 1  # the address that logged in
    assert "user=alice distributed_brute_force" in render_text(report)
