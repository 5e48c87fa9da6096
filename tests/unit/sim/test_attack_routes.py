"""The simulator's attack API: attacks start from the API or a ``brute_force_login`` fault,
their lines reach the access log, and the ground truth names their addresses."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from selfheal_ml.clock import SimClock
from selfheal_ml.sim.access_log import AccessLog
from selfheal_ml.sim.server import create_sim_app
from selfheal_ml.sim.simulator import PlatformSimulator
from selfheal_ml.sim.traffic import HEALTH_CHECKERS, TrafficModel


def test_attacks_reach_the_log_with_their_ground_truth(tmp_path: Path, sim_clock: SimClock) -> None:
    simulator = PlatformSimulator(seed=0, start=sim_clock.now())
    model = TrafficModel(platforms=tuple(simulator.platform_names), seed=0)
    log = AccessLog(tmp_path / "access.jsonl", model, sim_clock.now)
    client = TestClient(create_sim_app(simulator, sim_clock, log))

    started = client.post("/sim/attacks", json={"kind": "scraping", "duration_s": 60})
    platform = simulator.platform_names[0]
    body = {"kind": "brute_force_login", "platform": platform, "duration_s": 60}
    fault = client.post("/sim/faults", json=body)
    sim_clock.advance(10)
    log.catch_up()

    assert started.status_code == 201 and fault.status_code == 201
    attacks = client.get("/sim/attacks").json()["attacks"]
    assert [(a["kind"], a["fault_id"]) for a in attacks] == [
        ("scraping", None),
        ("brute_force", fault.json()["fault_id"]),
    ]
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    by_address = {line["ip"] for line in lines}
    for attack in attacks:
        assert set(attack["addresses"]) <= by_address
        assert attack["requests"] > 0
    truth = client.get("/sim/traffic").json()
    assert truth["format"] == "jsonl" and truth["health_checkers"] == list(HEALTH_CHECKERS)
    assert set(HEALTH_CHECKERS) <= by_address
    assert set(truth["users"].values()) & by_address


def test_attack_routes_without_a_log_say_so(sim_clock: SimClock) -> None:
    simulator = PlatformSimulator(seed=0, start=sim_clock.now())
    client = TestClient(create_sim_app(simulator, sim_clock))
    answer = client.post("/sim/attacks", json={"kind": "brute_force"})
    assert answer.status_code == 409
    assert answer.json()["detail"][0]["loc"] == ["sim", "access_log"]
    assert client.post("/sim/attacks", json={"kind": "nope"}).status_code == 422
