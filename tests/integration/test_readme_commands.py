"""The README's commands, as printed: what can run in CI runs, the rest is checked against
the command's own ``--help`` (the command exists, and every option the README shows is one it
takes). ``bash`` blocks are meant to be copied verbatim; ``text`` blocks are synopses with
optional parts in brackets."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the environment the README's activation puts on PATH
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    return [body for found, body in FENCE.findall(text) if found == language]


def commands(body: str) -> list[str]:
    """One command per line (a synopsis' continuation lines joined to their command)."""
    lines: list[str] = []
    for raw in body.splitlines():
        line = raw.split("  #")[0].rstrip()
        if not line.strip() or line.startswith("$"):
            continue
        if raw.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
    return lines


def environment() -> dict[str, str]:
    """A shell with the README's ``. .venv/bin/activate`` done."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(BIN.parent)
    return env


def program(command: str) -> list[str]:
    """The argv that names the command: ``selfheal-ml sim serve``, ``python pipelines/X.py``
    (environment assignments, ``--log-level LEVEL`` and bracketed options left out)."""
    words = shlex.split(re.sub(r"[\[\]]", " ", command))
    words = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    if words[0] == "python":
        return [str(BIN / "python"), words[1]]
    assert words[0] == "selfheal-ml", command
    rest = words[1:]
    if rest[:1] == ["--log-level"]:
        rest = rest[2:]
    argv = [str(BIN / "selfheal-ml")]
    for word in rest:
        if not re.fullmatch(r"[a-z]+", word):
            break
        argv.append(word)
    return argv


def options(command: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", command))


SYNOPSIS = [line for body in blocks("text") for line in commands(body) if "selfheal-ml" in line
            or line.startswith("python ")]  # fmt: skip
RUNNABLE = [line for body in blocks("bash") for line in commands(body)]


def test_the_readme_has_commands() -> None:
    assert len(SYNOPSIS) >= 10 and ". .venv/bin/activate" in RUNNABLE
    assert RUNNABLE[0].startswith("python3 -m venv .venv && .venv/bin/pip install -e .")


@pytest.mark.parametrize("line", SYNOPSIS + [line for line in RUNNABLE if line.startswith(
    ("selfheal-ml", "python "))])  # fmt: skip
def test_every_command_takes_the_options_shown(line: str) -> None:
    argv = program(line)
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, "--help"], cwd=ROOT, env=environment(), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    shown = done.stdout
    if "--log-level" in line:
        shown += subprocess.run(
            [argv[0], "--help"], cwd=ROOT, env=environment(), capture_output=True, text=True,
            timeout=300,
        ).stdout  # fmt: skip
    missing = {option for option in options(line) if option not in shown}
    assert not missing, f"{line}: {sorted(missing)} not in {' '.join(argv)} --help"
    assert time.perf_counter() - started < 60  # generous: CI shares its cores


def test_the_files_the_quick_start_names_exist() -> None:
    assert os.access(ROOT / "scripts" / "test", os.X_OK) and "scripts/test" in RUNNABLE
    assert (BIN / "activate").is_file() and (BIN / "selfheal-ml").is_file()


@pytest.mark.parametrize("line", ["selfheal-ml config show", "selfheal-ml version"])
def test_cheap_commands_run_as_printed(line: str) -> None:
    assert any(line in text for text in SYNOPSIS + RUNNABLE) or line == "selfheal-ml version"
    done = subprocess.run(
        shlex.split(line), cwd=ROOT, env=environment(), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "None" not in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def simulator() -> Iterator[int]:
    """``selfheal-ml sim serve`` as printed, on a free port instead of 8700."""
    port = _free_port()
    process = subprocess.Popen(
        ["selfheal-ml", "sim", "serve", "--port", str(port)], cwd=ROOT, env=environment(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}" in first, first
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/sim/faults", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.integration
def test_sim_serve_says_where_it_listens_and_the_curl_injects(simulator: int) -> None:
    (curl,) = [line for line in RUNNABLE if line.startswith("curl ")]
    words = shlex.split(curl)
    body = json.loads(words[words.index("-d") + 1])
    url = words[words.index("-X") + 2].replace("localhost:8700", f"127.0.0.1:{simulator}")
    answer = httpx.post(f"http://{url}", json=body, timeout=10)
    assert answer.status_code < 300, answer.text
