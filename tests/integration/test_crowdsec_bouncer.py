"""The real CrowdSec client: Debian's ``crowdsec-firewall-bouncer`` enforces our bans.

The service runs in a thread (uvicorn, loopback, a free port); the bouncer, pointed at it with
one of ``security.bouncer_api_keys``, runs in nftables ``set-only`` mode against a table of its
own, so it only fills a set (no rule drops any packet) and the table is deleted afterwards.
Skips when the bouncer or ``nft`` is not installed or nftables cannot be changed here
(``apt-get install crowdsec-firewall-bouncer`` as root installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from selfheal_ml.api import create_app
from selfheal_ml.config import load_settings
from selfheal_ml.security.ban_policy import BanPolicy
from selfheal_ml.security.findings import Finding, FindingKind, Scope
from selfheal_ml.storage import Database
from selfheal_ml.storage.security import SecurityStore

pytestmark = pytest.mark.integration

KEY = "0123456789abcdef0123456789abcdef"
BOUNCER = "crowdsec-firewall-bouncer"
SET = "selfheal-test-blacklist"
DEADLINE_S = 30.0


def _nft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10, check=False)


@pytest.fixture
def nft_table() -> Iterator[str]:
    """A table with an empty timeout set for the bouncer to fill; deleted afterwards."""
    if shutil.which(BOUNCER) is None or shutil.which("nft") is None:
        pytest.skip(f"{BOUNCER} or nft not installed (apt-get install {BOUNCER})")
    table = f"selfheal_test_{os.getpid()}"
    if _nft("add", "table", "ip", table).returncode != 0:
        pytest.skip("nftables cannot be changed here (needs root / CAP_NET_ADMIN)")
    try:
        created = _nft("add", "set", "ip", table, SET, "{ type ipv4_addr; flags timeout; }")
        assert created.returncode == 0, created.stderr
        yield table
    finally:
        _nft("delete", "table", "ip", table)


def ban(db_path: Path, address: str) -> None:
    """Store a brute-force ban decided now, as the Security agent does."""
    now = datetime.now(UTC)
    decision = BanPolicy().decide(Finding(FindingKind.BRUTE_FORCE, Scope.IP, address, now, now, 5))
    assert decision is not None
    database = Database(str(db_path))
    try:
        SecurityStore(database).append_decisions([decision])
    finally:
        database.close()


@pytest.fixture
def service_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The API (no agents) served with uvicorn on a free loopback port, lifespan on."""
    config = tmp_path / "selfheal.toml"
    config.write_text(f'[security]\nbouncer_api_keys = ["{KEY}"]\n')
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "selfheal.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("ENABLE_SELF_HEALING", "false")
    app = create_app(load_settings(config), dev=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


def bouncer_config(path: Path, api_url: str, table: str) -> Path:
    settings = {
        "mode": "nftables",
        "pid_dir": str(path.parent),
        "update_frequency": "1s",
        "daemonize": False,
        "log_mode": "stdout",
        "log_level": "info",
        "api_url": api_url,
        "api_key": KEY,
        "disable_ipv6": True,
        "deny_action": "DROP",
        "supported_decisions_types": ["ban"],
        "blacklists_ipv4": SET,
        "blacklists_ipv6": f"{SET}6",
        "nftables": {
            "ipv4": {"enabled": True, "set-only": True, "table": table, "chain": "unused"},
            "ipv6": {"enabled": False, "set-only": True, "table": f"{table}6", "chain": "x"},
        },
        "prometheus": {"enabled": False, "listen_addr": "127.0.0.1", "listen_port": 9049},
    }
    path.write_text(json.dumps(settings))  # YAML is a superset of JSON
    return path


def set_elements(table: str) -> set[str]:
    listed = _nft("-j", "list", "set", "ip", table, SET)
    assert listed.returncode == 0, listed.stderr
    found: set[str] = set()
    for item in json.loads(listed.stdout)["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            value = element["elem"]["val"] if isinstance(element, dict) else element
            found.add(str(value))
    return found


def wait_for(table: str, address: str, bouncer: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S:
        assert bouncer.poll() is None, "the bouncer exited"
        if address in set_elements(table):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{address} not in the bouncer's set within {DEADLINE_S:.0f} s")


def test_the_debian_firewall_bouncer_enforces_our_bans(
    nft_table: str, service_url: str, tmp_path: Path
) -> None:
    db_path = tmp_path / "selfheal.duckdb"
    ban(db_path, "203.0.113.77")  # in force before the bouncer starts: startup=true
    config = bouncer_config(tmp_path / "bouncer.yaml", service_url, nft_table)
    log = (tmp_path / "bouncer.log").open("w")
    bouncer = subprocess.Popen([BOUNCER, "-c", str(config)], stdout=log, stderr=log, text=True)
    try:
        wait_for(nft_table, "203.0.113.77", bouncer)
        ban(db_path, "203.0.113.78")  # decided while it runs: a delta pull
        wait_for(nft_table, "203.0.113.78", bouncer)
        assert set_elements(nft_table) == {"203.0.113.77", "203.0.113.78"}
    finally:
        bouncer.terminate()
        bouncer.wait(timeout=10)
        log.close()
    text = (tmp_path / "bouncer.log").read_text()
    assert "Using API key auth" in text and "access forbidden" not in text
