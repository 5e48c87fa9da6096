"""Scenario 3 in virtual time: every attack kind in the access log the Security agent tails
(same source, parser, detector and ban policy as ``serve``) is detected, the single-source
attacks are blocked within 30 s, and no user, health checker or never-ban address is blocked."""

from __future__ import annotations

from pathlib import Path

from selfheal_ml.config import load_settings
from selfheal_ml.demo import DemoOptions, build_simulation
from selfheal_ml.sim import FaultSchedule
from selfheal_ml.sim.traffic import AttackKind

SINGLE_SOURCE = {"brute_force", "credential_stuffing", "injection_probe", "scraping"}


async def test_six_attack_kinds_detected_blocked_and_no_one_else(tmp_path: Path) -> None:
    options = DemoOptions(
        days=0.25, seed=13, db_path=str(tmp_path / "s.duckdb"), progress=False,
        warmup_days=0.0, attacks=6,
    )  # fmt: skip
    simulation = await build_simulation(load_settings(), options, FaultSchedule(faults=()))
    assert simulation.attacks is not None
    await simulation.run(options.days)
    await simulation.runtime.stop()
    report = simulation.attacks.report()
    kinds = report["by_kind"]
    assert set(kinds) == {kind.value for kind in AttackKind}
    assert report["every_kind_detected"], kinds
    for kind in SINGLE_SOURCE:
        assert kinds[kind]["blocked"] == 1 and kinds[kind]["block_max_s"] <= 30.0, kinds[kind]
    assert kinds["distributed_brute_force"]["blocked"] == 1
    assert kinds["api_key_misuse"]["blocked"] == 0  # a key finding is an alert, not a ban
    assert report["wrong_blocks"] == 0 and report["wrongly_blocked"] == []
    assert report["log_lines"] > 5000
    per_attack = report["per_attack"]
    refused = [a for a in per_attack if a["kind"] in SINGLE_SOURCE]
    assert all(a["refused"] > 0 and a["time_to_refuse_s"] <= 31.0 for a in refused), refused
    # the Diagnostic agent confirms every attack the Security agent confirms as an incident on
    # its platform (a scraping burst is a warning: banned, no incident)
    confirmed = {a["kind"]: a["incident_after_s"] for a in per_attack}
    assert confirmed.pop("scraping") is None, confirmed
    assert all(after is not None and after <= 30.0 for after in confirmed.values()), confirmed
