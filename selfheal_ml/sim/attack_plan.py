"""A reproducible schedule of attacks for a virtual-time run (the chaos benchmark's Scenario 3).

Pure: :func:`plan_attacks` spreads ``count`` attacks over a run, cycling through every
:class:`~selfheal_ml.sim.traffic.AttackKind` so each kind is tried about equally often, each on
a platform and at a moment drawn from a seeded generator. The first ``quiet_s`` of the run and
the last ``duration_s + 600`` s hold none (the detectors see ordinary traffic first; every
attack ends, and can be blocked, before the run does).

>>> plan = plan_attacks(seed=1, days=1.0, count=6, platforms=("shop",))
>>> sorted(attack.kind.value for attack in plan) == sorted(kind.value for kind in AttackKind)
True
>>> all(3600.0 <= attack.at_s <= 86400.0 - 900.0 for attack in plan)
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from selfheal_ml.errors import ValidationError
from selfheal_ml.sim.traffic import AttackKind

DAY_S = 86_400.0
END_MARGIN_S = 600.0


@dataclass(frozen=True)
class PlannedAttack:
    """One attack to start ``at_s`` simulated seconds into the run."""

    at_s: float
    kind: AttackKind
    platform: str
    duration_s: float


def plan_attacks(
    seed: int,
    days: float,
    count: int,
    platforms: tuple[str, ...],
    *,
    duration_s: float = 300.0,
    quiet_s: float = 3600.0,
) -> tuple[PlannedAttack, ...]:
    """``count`` attacks in time order (module docstring); none when ``count`` is 0."""
    if count < 0:
        raise ValidationError("attacks", f"expected zero or more attacks, got {count}")
    if count == 0:
        return ()
    if not platforms:
        raise ValidationError("platforms", "expected at least one platform")
    latest = days * DAY_S - duration_s - END_MARGIN_S
    if latest <= quiet_s:
        needed = quiet_s + duration_s + END_MARGIN_S
        raise ValidationError("days", f"too short for attacks: expected more than {needed:.0f} s")
    rng = random.Random(f"attacks-{seed}")
    kinds = list(AttackKind)
    planned = [
        PlannedAttack(
            at_s=round(rng.uniform(quiet_s, latest), 3),
            kind=kinds[number % len(kinds)],
            platform=rng.choice(platforms),
            duration_s=duration_s,
        )
        for number in range(count)
    ]
    return tuple(sorted(planned, key=lambda attack: attack.at_s))
