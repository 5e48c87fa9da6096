"""The simulator as a bouncer (``DecisionPoller``) and its access-log writer (``AccessLog``)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from selfheal_ml.clock import SimClock
from selfheal_ml.sim.access_log import AccessLog, DecisionPoller
from selfheal_ml.sim.traffic import AttackKind, TrafficModel

KEY = "k" * 32


def test_the_poller_starts_up_then_applies_deltas_and_retries_startup_after_a_failure() -> None:
    asked: list[str] = []
    answers: list[object] = [
        {"new": [{"type": "ban", "scope": "Ip", "value": "203.0.113.5", "duration": "9m50s"}],
         "deleted": None},
        {"new": None, "deleted": [{"type": "ban", "scope": "Ip", "value": "203.0.113.5",
                                   "duration": "-1s"}]},
        500,
        {"new": [], "deleted": []},
    ]  # fmt: skip

    def service(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == KEY
        asked.append(request.url.params["startup"])
        answer = answers[len(asked) - 1]
        if isinstance(answer, int):
            return httpx.Response(answer)
        return httpx.Response(200, content=json.dumps(answer))

    poller = DecisionPoller("http://service", KEY)
    with httpx.Client(transport=httpx.MockTransport(service)) as client:
        poller.pull(client)
        assert poller.banned("203.0.113.5") and poller.banned("::ffff:203.0.113.5")
        assert not poller.banned("198.51.100.10")
        poller.pull(client)
        assert not poller.banned("203.0.113.5")
        with pytest.raises(httpx.HTTPStatusError):
            poller.pull(client)
        poller.pull(client)
    assert asked == ["true", "false", "false", "true"]


def test_the_access_log_writes_what_happened_since_the_last_call(
    tmp_path: Path, sim_clock: SimClock
) -> None:
    model = TrafficModel(platforms=("shop",), seed=0)
    log = AccessLog(tmp_path / "logs" / "access.jsonl", model, sim_clock.now)
    log.path.parent.mkdir()
    attack = model.start_attack(AttackKind.BRUTE_FORCE, "shop", sim_clock.now(), duration_s=5)
    sim_clock.advance(10)

    written = log.catch_up()

    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert written == len(lines) == log.written > 0
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)
    assert sum(line["ip"] == attack.addresses[0] for line in lines) == attack.requests
    assert log.catch_up() == 0  # nothing new: the clock did not move
