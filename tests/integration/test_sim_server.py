"""The live simulator over real HTTP on loopback (uvicorn in a thread), plus the 4xx contract.

The clock is a ``SimClock`` the test moves by hand: the server advances the simulator to the
clock's now on every request, exactly as it follows ``RealClock`` in live mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from selfheal_ml.clock import SimClock
from selfheal_ml.sim import PlatformSimulator
from selfheal_ml.sim.server import create_sim_app

pytestmark = pytest.mark.integration

ServeApp = Callable[[Any], AbstractContextManager[str]]

START = datetime(2026, 1, 5, 10, tzinfo=UTC)


@dataclass
class LiveSimulator:
    base_url: str
    clock: SimClock
    simulator: PlatformSimulator


@pytest.fixture
def live(serve_app: ServeApp) -> Iterator[LiveSimulator]:
    clock = SimClock(START)
    simulator = PlatformSimulator(seed=1, start=START)
    with serve_app(create_sim_app(simulator, clock)) as base_url:
        yield LiveSimulator(base_url, clock, simulator)


def _value(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not exposed")


def test_database_outage_is_visible_and_repairable_over_http(live: LiveSimulator) -> None:
    with httpx.Client(base_url=live.base_url, timeout=5.0) as client:
        overview = client.get("/health").json()
        assert set(overview["platforms"].values()) == {"healthy"}
        assert client.get("/p/leadsite.ai/health").status_code == 200

        created = client.post("/sim/faults", json={"kind": "db_unreachable"})
        assert created.status_code == 201
        fault_id = created.json()["fault_id"]
        live.clock.advance(60.0)
        assert client.get("/p/leadsite.ai/health").status_code == 503
        metrics = client.get("/deps/postgres/metrics")  # the database's exporter page
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert _value(metrics.text, "db_up") == 0.0
        assert "db_up" not in client.get("/p/leadsite.ai/metrics").text  # not once per platform
        assert live.simulator.now() == live.clock.now()  # the server caught up with the clock

        faults = client.get("/sim/faults", params={"active_only": True}).json()["faults"]
        assert [fault["fault_id"] for fault in faults] == [fault_id]
        assert faults[0]["fixing_actions"] == ["reset_db_connections"]
        assert len(faults[0]["platforms"]) == 5

        wrong = client.post(
            "/sim/actions", json={"platform": "tackle.io", "action": "restore_from_backup"}
        )
        assert wrong.status_code == 200 and wrong.json()["fixed"] is False
        live.clock.advance(120.0)  # the restore's own outage passes
        right = client.post(
            "/sim/actions", json={"platform": "tackle.io", "action": "reset_db_connections"}
        )
        assert right.json()["fixed"] is True and right.json()["fault_ids"] == [fault_id]
        live.clock.advance(180.0)
        assert client.get("/p/leadsite.ai/health").json()["status"] == "healthy"
        everything = client.get("/metrics").text
        assert _value(everything, "db_up") == 1.0
        past = client.get("/sim/faults").json()["faults"][0]
        assert past["resolved_by"] == "reset_db_connections" and past["active"] is False


def test_bad_config_push_shows_in_the_config_log(live: LiveSimulator) -> None:
    with httpx.Client(base_url=live.base_url, timeout=5.0) as client:
        client.post("/sim/faults", json={"kind": "bad_config_push", "platform": "leadsite.io"})
        changes = client.get("/sim/config-changes").json()["changes"]
        assert changes[-1]["platform"] == "leadsite.io"
        assert changes[-1]["ts"] == START.isoformat() and changes[-1]["rollback"] is False


@pytest.fixture(scope="module")
def client(serve_app: ServeApp) -> Iterator[httpx.Client]:
    with (
        serve_app(
            create_sim_app(PlatformSimulator(seed=1, start=START), SimClock(START))
        ) as base_url,
        httpx.Client(base_url=base_url, timeout=5.0) as http,
    ):
        yield http


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/sim/faults", {"platform": "leadsite.ai"}, "kind"),
        ("/sim/faults", {"kind": "meteor_strike", "platform": "leadsite.ai"}, "kind"),
        ("/sim/faults", {"kind": "service_crash", "platform": "example.com"}, "platform"),
        ("/sim/faults", {"kind": "service_crash"}, "platform"),
        (
            "/sim/faults",
            {"kind": "service_crash", "platform": "tackle.io", "severity": 5},
            "severity",
        ),
        ("/sim/faults", {"kind": "service_crash", "platform": "tackle.io", "colour": 1}, "colour"),
        ("/sim/actions", {"platform": "tackle.io"}, "action"),
        ("/sim/actions", {"platform": "tackle.io", "action": "reboot_universe"}, "action"),
        ("/sim/actions", {"platform": "example.com", "action": "restart_service"}, "platform"),
    ],
)
def test_bad_requests_get_422_naming_the_field(
    client: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    locations = [error["loc"][-1] for error in response.json()["detail"]]
    assert field in locations


def test_unknown_platform_in_path_is_404_naming_the_field(client: httpx.Client) -> None:
    for path in ("/p/example.com/health", "/p/example.com/metrics"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["detail"][0]["loc"] == ["path", "platform"]


def test_unknown_dependency_in_path_is_404_naming_the_field(client: httpx.Client) -> None:
    response = client.get("/deps/mysql/metrics")
    assert response.status_code == 404
    assert response.json()["detail"][0]["loc"] == ["path", "dependency"]
