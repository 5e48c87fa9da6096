"""How long after its start each simulated attack of one kind is first blocked, with and without
the distributed brute-force campaign rule (``DetectionRules.distributed_campaign_s``).

Usage:

    python pipelines/attack_block_times.py [--kind distributed_brute_force] [--attacks 20]
        [--seeds 2001-2010]

Per seed, draws the simulator's traffic (sim/traffic.py at the chaos benchmark's thinned rates)
for ``--attacks`` attacks of ``--kind``, one every 20 minutes on a random platform, and reads it
the way the chaos benchmark's Security agent does: a batch every 10 simulated seconds through
the JSON-lines parser, the attack detector and the ban policy, the simulator refusing banned
addresses from the next batch on. Prints the time from each attack's start to the first ban of
one of its addresses (blocked late: over 30 s), and the bans of addresses no attack used
(users and health checkers), once with the campaign rule off (0: the per-address jail alone
bans) and once at its default. A quicker, narrower look than the chaos benchmark: no agents,
no bus, no store.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from selfheal_ml.security.ban_policy import BanPolicy
from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.json_lines import JsonLinesParser
from selfheal_ml.security.records import LogRecord
from selfheal_ml.security.rules import DetectionRules
from selfheal_ml.sim.traffic import AttackKind, TrafficModel

PLATFORMS = ("leadsite.ai", "tackle.io", "videosite.io", "shop.example", "leadsite.io")
START = datetime(2026, 1, 5, tzinfo=UTC)
TICK_S = 10.0
SPACING_S = 1200.0
WARMUP_S = 600.0
TARGET_S = 30.0


def run(seed: int, kind: AttackKind, attacks: int, campaign_s: float) -> tuple[list[float], int]:
    """Seconds from each attack's start to its first ban; bans of addresses no attack used."""
    model = TrafficModel(platforms=PLATFORMS, seed=seed, user_rate_per_s=0.01, health_every_s=30)
    rng = random.Random(f"block-times-{seed}")
    detector = AttackDetector(DetectionRules(distributed_campaign_s=campaign_s), seed=seed)
    policy, parser = BanPolicy(), JsonLinesParser()
    for number in range(attacks):
        at = START + timedelta(seconds=WARMUP_S + number * SPACING_S + rng.uniform(0, 600))
        model.start_attack(kind, rng.choice(PLATFORMS), at, duration_s=300.0)
    first_ban: dict[str, datetime] = {}
    end = START + timedelta(seconds=WARMUP_S + attacks * SPACING_S)
    moment = START
    while moment < end:
        after = moment + timedelta(seconds=TICK_S)
        events = model.events(moment, after, partial(policy.is_banned, now=moment))
        records = [r for e in events if isinstance(r := parser.parse(json.dumps(e)), LogRecord)]
        for finding in detector.observe(records):
            decision = policy.decide(replace(finding, detected_at=after))  # banned at the tick
            if decision is not None and decision.enforced:
                first_ban.setdefault(decision.value, after)
        moment = after
    used = {address for attack in model.attacks for address in attack.addresses}
    times = []
    for attack in model.attacks:
        bans = [first_ban[a] for a in attack.addresses if a in first_ban]
        if bans:
            times.append((min(bans) - attack.started_at).total_seconds())
        else:
            times.append(float("inf"))
    return times, sum(address not in used for address in first_ban)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = [kind.value for kind in AttackKind]
    parser.add_argument(
        "--kind",
        default=AttackKind.DISTRIBUTED_BRUTE_FORCE.value,
        choices=kinds,
        help="attack kind",
    )
    parser.add_argument("--attacks", type=int, default=20, help="attacks per seed (20)")
    parser.add_argument("--seeds", default="2001-2010", help="a range FIRST-LAST")
    args = parser.parse_args()
    first, last = (int(part) for part in args.seeds.split("-"))
    kind = AttackKind(args.kind)
    for label, campaign_s in (("campaign rule off", 0.0), ("campaign rule on", 600.0)):
        times: list[float] = []
        wrong = 0
        for seed in range(first, last + 1):
            seed_times, seed_wrong = run(seed, kind, args.attacks, campaign_s)
            times += seed_times
            wrong += seed_wrong
        blocked = sorted(time for time in times if time != float("inf"))
        late = sum(time > TARGET_S for time in times)
        median = statistics.median(blocked) if blocked else float("nan")
        worst = max(blocked) if blocked else float("nan")
        print(f"{label}: {len(times)} {kind.value} attacks, {len(blocked)} blocked, first ban"
              f" median {median:.1f} s, max {worst:.1f} s, {late} later than {TARGET_S:.0f} s"
              f" or never; bans of addresses no attack used: {wrong}")  # fmt: skip


if __name__ == "__main__":
    main()
