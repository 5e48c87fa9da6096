"""The attack schedule of a virtual-time run: reproducible, every kind, inside the run."""

from __future__ import annotations

import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim.attack_plan import plan_attacks
from selfheal_ml.sim.traffic import AttackKind

PLATFORMS = ("shop", "blog")


def test_same_seed_same_plan_and_every_kind_equally_often() -> None:
    plan = plan_attacks(7, days=21.0, count=42, platforms=PLATFORMS)
    assert plan == plan_attacks(7, days=21.0, count=42, platforms=PLATFORMS)
    assert plan != plan_attacks(8, days=21.0, count=42, platforms=PLATFORMS)
    counts = {kind: sum(attack.kind is kind for attack in plan) for kind in AttackKind}
    assert set(counts.values()) == {7}
    assert [attack.at_s for attack in plan] == sorted(attack.at_s for attack in plan)


def test_attacks_leave_the_first_hour_and_end_before_the_run() -> None:
    plan = plan_attacks(1, days=0.2, count=12, platforms=PLATFORMS, duration_s=300.0)
    assert all(a.at_s >= 3600.0 and a.at_s + a.duration_s <= 0.2 * 86400 - 600 for a in plan)
    assert {attack.platform for attack in plan} <= set(PLATFORMS)


def test_no_attacks_and_bad_counts() -> None:
    assert plan_attacks(1, days=1.0, count=0, platforms=()) == ()
    with pytest.raises(ValidationError, match="attacks"):
        plan_attacks(1, days=1.0, count=-1, platforms=PLATFORMS)
    with pytest.raises(ValidationError, match="days: too short"):
        plan_attacks(1, days=0.01, count=1, platforms=PLATFORMS)
