"""``python pipelines/live_soak.py``: a bad argument is one line on stderr and exit code 2
(the soak itself is opt-in, not run in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "pipelines" / "live_soak.py"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--faults", "0"], "--faults: expected at least 1, got 0"),
        (["--kinds", "service_crash,nope"], "--kinds: expected catalogue kinds, got ['nope']"),
        (["--timeout", "0"], "--timeout: expected > 0 s, got 0.0"),
        (["--interval", "-1"], "--interval: expected >= 0 s, got -1.0"),
        (["--sim-url", "http://127.0.0.1:8729"], "--sim-url and --service-url: give both"),
        (["--faults", "x"], "argument --faults: invalid int value: 'x'"),
    ],
)
def test_a_bad_argument_is_one_line_on_stderr_and_exit_2(
    arguments: list[str], named: str, tmp_path: Path
) -> None:
    command = [sys.executable, str(SCRIPT), *arguments, "--out", str(tmp_path / "soak.json")]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr[-2000:]
    assert lines[0].startswith("live_soak.py: error: ") and named in lines[0]
    assert not (tmp_path / "soak.json").exists()
