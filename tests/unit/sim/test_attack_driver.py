"""The attack driver in virtual time: attacks start when due, fault attacks follow their
faults, the access log is written up to the clock, banned addresses are refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from selfheal_ml.sim.access_log import AccessLog
from selfheal_ml.sim.attack_driver import AttackDriver
from selfheal_ml.sim.attack_plan import PlannedAttack
from selfheal_ml.sim.catalogue import FaultKind, FaultRecord
from selfheal_ml.sim.traffic import AttackKind, TrafficModel

START = datetime(2026, 1, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment


def _fault(injected_at: datetime) -> FaultRecord:
    return FaultRecord(
        fault_id="fault-0001", kind=FaultKind.BRUTE_FORCE_LOGIN, platform="shop",
        platforms=("shop",), severity=1.0, injected_at=injected_at,
        expires_at=injected_at + timedelta(seconds=120), resolved_at=None, resolved_by=None,
        symptoms=(), fixing_actions=(),
    )  # fmt: skip


def test_planned_and_fault_attacks_reach_the_log_and_bans_are_honoured(tmp_path: Path) -> None:
    clock = Clock()
    banned: set[str] = set()
    log = AccessLog(tmp_path / "access.jsonl", TrafficModel(("shop",), seed=3), clock.now,
                    banned=banned.__contains__)  # fmt: skip
    faults: list[FaultRecord] = []
    plan = [PlannedAttack(60.0, AttackKind.BRUTE_FORCE, "shop", 300.0)]
    driver = AttackDriver(log, plan, START, faults=lambda: faults, injected=lambda: len(faults))

    clock.moment = START + timedelta(seconds=50)
    driver(clock.moment)
    assert driver.attacks == []
    clock.moment = START + timedelta(seconds=70)
    faults.append(_fault(START + timedelta(seconds=65)))
    driver(clock.moment)
    planned, from_fault = driver.attacks
    assert planned.started_at == START + timedelta(seconds=60)
    assert from_fault.fault_id == "fault-0001" and from_fault.ends_at == START + timedelta(
        seconds=185
    )
    banned.add(planned.addresses[0])
    clock.moment = START + timedelta(seconds=90)
    driver(clock.moment)
    events = [json.loads(line) for line in (tmp_path / "access.jsonl").read_text().splitlines()]
    attacker = [e for e in events if e["ip"] == planned.addresses[0]]
    assert any(e["event"] == "login_failed" and e["time"] < "2026-01-05T00:01:10" for e in attacker)
    assert all(e["status"] == 403 for e in attacker if e["time"] >= "2026-01-05T00:01:10")
    assert planned.refused > 0 and planned.first_refused_at is not None
    assert max(e["time"] for e in events) < (START + timedelta(seconds=90)).isoformat()
    assert driver.faults_seen == 1


def test_a_fault_ended_by_block_ip_blocks_its_attacker_in_the_log(tmp_path: Path) -> None:
    # dev seed 2001 with the Monitor on: block_ip ended the fault after 272 s, the attacker
    # kept failing logins in the log for hours, and each ban's expiry opened a new incident
    clock = Clock()
    driver: AttackDriver | None = None

    def banned(address: str) -> bool:
        assert driver is not None
        return driver.blocked(address, clock.now())

    log = AccessLog(tmp_path / "access.jsonl", TrafficModel(("shop",), seed=3), clock.now,
                    banned=banned)  # fmt: skip
    fault = replace(_fault(START), expires_at=START + timedelta(hours=3))
    faults = [fault]
    driver = AttackDriver(log, [], START, faults=lambda: faults, injected=lambda: len(faults))
    clock.moment = START + timedelta(seconds=60)
    driver(clock.moment)
    (attack,) = driver.attacks
    assert attack.refused == 0
    repaired_at = START + timedelta(seconds=90)
    faults[0] = replace(fault, resolved_at=repaired_at, resolved_by="block_ip")
    clock.moment = START + timedelta(seconds=120)
    driver(clock.moment)
    assert driver.blocked(attack.addresses[0], clock.moment)
    assert not driver.blocked(attack.addresses[0], repaired_at + timedelta(hours=1))
    clock.moment = START + timedelta(seconds=180)
    driver(clock.moment)
    assert attack.refused > 0  # refused from the repair on, as a bouncer would
    # a fault that merely expired blocks nobody
    other = replace(fault, fault_id="fault-0002", injected_at=clock.moment)
    faults.append(other)
    driver(clock.moment)
    faults[1] = replace(other, resolved_at=clock.moment, resolved_by="expired")
    clock.moment += timedelta(seconds=10)
    driver(clock.moment)
    assert not driver.blocked(driver.attacks[-1].addresses[0], clock.moment)
