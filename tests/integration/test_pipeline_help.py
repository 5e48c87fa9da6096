"""Every pipeline script's --help: each option described, plain text (no reST markup)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PIPELINES = sorted((Path(__file__).resolve().parents[2] / "pipelines").glob("*.py"))
OPTION = re.compile(r"^  (-\S+(?:, --\S+)?)(?: ([A-Z_{]\S*))?( {2,}\S.*)?$")


def undescribed(text: str) -> list[str]:
    """Options listed with no help text (argparse puts it beside or on the next line)."""
    lines = text.split("options:", 1)[1].split("\n")
    found = []
    for index, line in enumerate(lines):
        match = OPTION.match(line)
        if not match or match.group(1) == "-h, --help" or match.group(3):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not (following.startswith(" " * 10) and following.strip()):
            found.append(line.strip())
    return found


@pytest.mark.parametrize("script", PIPELINES, ids=lambda path: path.name)
def test_help_describes_every_option(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-1000:]
    assert undescribed(done.stdout) == []
    for markup in ("``", ":func:", ":mod:", ":class:"):
        assert markup not in done.stdout


def test_the_check_finds_an_undescribed_option() -> None:
    text = "options:\n  -h, --help  show this\n  --out OUT\n  --seed SEED  the seed\n"
    assert undescribed(text) == ["--out OUT"]
