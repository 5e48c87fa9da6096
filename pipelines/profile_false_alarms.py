"""The live request profiles on the simulator's traffic: who gets an unusual_request warning?

Usage::

    python pipelines/profile_false_alarms.py [--hours 24] [--seeds 2001-2003]

Per seed, draws ``--hours`` of the simulator's traffic (``sim/traffic.py``: 20 users browsing
and logging in, health checkers, five platforms) with an injection probe and a scraping burst
started every 6 hours on a random platform (each 120 s), writes every event through the
``jsonl`` log parser (as the Security agent's sources read it), and runs the records through
an :class:`~selfheal_ml.security.detector.AttackDetector` with the default
:class:`~selfheal_ml.security.profile_watch.PlatformProfiles` (the Security agent's opt-in).
Nothing is banned (the point is what the profiles flag, not what the policy does).

Printed per seed and in total: requests read, requests the profiles flagged (legitimate
users and health checkers, attackers), and ``unusual_request`` findings about legitimate
addresses (false alarms) and about attackers.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta

from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import FindingKind
from selfheal_ml.security.json_lines import JsonLinesParser
from selfheal_ml.security.profile_watch import PlatformProfiles
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.sim.traffic import HEALTH_CHECKERS, USER_ADDRESSES, AttackKind, TrafficModel

PLATFORMS = ("leadsite.ai", "tackle.io", "videosite.io", "shop.example", "leadsite.io")
START = datetime(2026, 1, 5, tzinfo=UTC)
LEGITIMATE = frozenset(USER_ADDRESSES.values()) | frozenset(HEALTH_CHECKERS)
ATTACKS = (AttackKind.INJECTION_PROBE, AttackKind.SCRAPING)


def records(seed: int, hours: int) -> list[LogRecord]:
    """The seed's traffic as parsed log records, in time order."""
    model = TrafficModel(platforms=PLATFORMS, seed=seed)
    rng = random.Random(seed)
    parser = JsonLinesParser()
    found: list[LogRecord] = []
    for hour in range(hours):
        begin = START + timedelta(hours=hour)
        if hour % 6 == 3:
            for kind in ATTACKS:
                model.start_attack(kind, rng.choice(PLATFORMS), begin, duration_s=120,
                                   rate_per_s=2.0)  # fmt: skip
        for event in model.events(begin, begin + timedelta(hours=1), lambda _address: False):
            record = parser.parse(json.dumps(event))
            if isinstance(record, LogRecord):
                found.append(record)
    return found


def run(seed: int, hours: int) -> dict[str, int]:
    """The counts of the module docstring for one seed."""
    read = records(seed, hours)
    # the detector's profiles and a copy fed the same batches (no scorer, nothing banned: the
    # two learn the same requests), whose flags are counted here
    profiles = PlatformProfiles()
    detector = AttackDetector(profiles=PlatformProfiles())
    findings = []
    flagged = {"legitimate": 0, "attackers": 0}
    for start in range(0, len(read), 500):  # batches, as the agent reads its sources
        batch = read[start : start + 500]
        unusual = profiles.check(batch, set(), detector.banned)
        for index in unusual:
            flagged["legitimate" if batch[index].source_ip in LEGITIMATE else "attackers"] += 1
        findings += detector.observe(batch)
    unusual_findings = [f for f in findings if f.kind is FindingKind.UNUSUAL_REQUEST]
    return {
        "requests": sum(r.kind is EventKind.REQUEST for r in read),
        "flagged_legitimate": flagged["legitimate"],
        "flagged_attackers": flagged["attackers"],
        "false_alarms": sum(f.value in LEGITIMATE for f in unusual_findings),
        "attacker_findings": sum(f.value not in LEGITIMATE for f in unusual_findings),
    }


def main() -> None:
    """Parse the options, run every seed, print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24, help="hours of traffic per seed (24)")
    parser.add_argument(
        "--seeds", default="2001-2003", help="simulator seeds, a range FIRST-LAST (2001-2003)"
    )
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    total: dict[str, int] = {}
    for seed in range(int(first), int(last or first) + 1):
        counts = run(seed, args.hours)
        print(f"seed {seed}: {counts}")
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    print(f"total: {total}")


if __name__ == "__main__":
    main()
