"""``selfheal-ml security replay`` on the shared OpenSSH log (the issue's acceptance check).

All ten sources with five or more failed passwords are blocked; the one legitimate login's
source (119.137.62.142, user fztu) never is. Skips when the shared data set is absent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from selfheal_ml.cli import main

pytestmark = pytest.mark.integration

SHARED_LOG = (
    Path(__file__).resolve().parents[2].parent
    / "shared/datasets/security/loghub_openssh/OpenSSH_2k.log"
)
LEGITIMATE = "119.137.62.142"
_FAILED = re.compile(r"Failed password for (?:invalid user )?.*? from (\S+) port")


@pytest.fixture
def shared_log() -> Path:
    if not SHARED_LOG.exists():
        pytest.skip(f"shared data set absent: {SHARED_LOG}")
    return SHARED_LOG


def five_or_more_failed_passwords(path: Path) -> set[str]:
    """Ground truth straight from the file: one count per "Failed password" line."""
    counts = Counter(
        match.group(1)
        for line in path.read_text("utf-8").splitlines()
        if (match := _FAILED.search(line))
    )
    return {address for address, count in counts.items() if count >= 5}


def test_replay_blocks_every_attacker_and_never_the_legitimate_login(
    shared_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attackers = five_or_more_failed_passwords(shared_log)
    assert len(attackers) == 10
    assert main(["security", "replay", str(shared_log), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    blocked = {d["source"] for d in report["decisions"] if d["action"] == "ban"}
    assert attackers <= blocked
    assert LEGITIMATE not in blocked
    unblocked = {s["source"]: s for s in report["unblocked"]}
    assert unblocked[LEGITIMATE]["accepted_logins"] == 1
    assert report["format"] == "sshd" and report["lines"]["malformed"] == 0
    for decision in report["decisions"]:
        assert decision["first_seen"] <= decision["blocked_at"]
        assert decision["event_count"] >= 5


def test_replay_text_output_and_dry_run(
    shared_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["security", "replay", str(shared_log), "--format", "sshd", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "would_ban" in text
    assert not re.search(r"^\S+\s+ban\s", text, flags=re.MULTILINE)
    assert "seen, not blocked" in text and LEGITIMATE in text


def test_replay_of_a_missing_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["security", "replay", str(tmp_path / "nope.log")]) == 2
    assert "FILE" in capsys.readouterr().err
