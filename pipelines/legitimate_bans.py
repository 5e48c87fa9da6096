"""How often the brute-force jails would ban a legitimate user of the simulator, with and without
forgiving a failure that the same account's login from the same address follows.

Usage:

    python pipelines/legitimate_bans.py [--days 21] [--seeds 2001-2010]

Draws only the simulator's legitimate traffic (sim/traffic.py at the chaos benchmark's thinned
rates: 20 users, a login each every 5 minutes, one typo in ten, each followed 3 s later by the
right password) for ``--days`` per seed, runs the login records through the attack detector
with ``forgive_on_success`` off and on, and prints, per seed and in total, the jail findings
about users' addresses (each one a ban the policy would have issued). Requests are left out:
the jails count logins only.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from selfheal_ml.security.detector import AttackDetector
from selfheal_ml.security.findings import FindingKind
from selfheal_ml.security.records import EventKind, LogRecord
from selfheal_ml.security.rules import DetectionRules, JailRule
from selfheal_ml.sim.traffic import USER_ADDRESSES, TrafficModel

PLATFORMS = ("leadsite.ai", "tackle.io", "videosite.io", "shop.example", "leadsite.io")
START = datetime(2026, 1, 5, tzinfo=UTC)
JAILS = frozenset({FindingKind.BRUTE_FORCE, FindingKind.SLOW_BRUTE_FORCE})
USERS = frozenset(USER_ADDRESSES.values())
KINDS = {"login_failed": EventKind.LOGIN_FAILED, "login_ok": EventKind.LOGIN_OK}


def logins(seed: int, days: float) -> list[LogRecord]:
    """The legitimate login records of ``days`` simulated days, in time order."""
    model = TrafficModel(platforms=PLATFORMS, seed=seed, user_rate_per_s=0.01, health_every_s=30)
    records: list[LogRecord] = []
    for hour in range(int(days * 24)):
        begin = START + timedelta(hours=hour)
        for event in model.events(begin, begin + timedelta(hours=1), lambda address: False):
            kind = KINDS.get(event["event"])
            if kind is not None:
                time = datetime.fromisoformat(event["time"])
                records.append(LogRecord(time, kind, event["ip"], event["user"]))
    return records


def user_bans(records: list[LogRecord], forgive: bool) -> int:
    """Jail findings about legitimate users' addresses."""
    jail = JailRule(forgive_on_success=forgive)
    rules = DetectionRules(brute_force=jail, slow_brute_force=JailRule(5, 86_400.0, forgive))
    findings = AttackDetector(rules).observe(records)
    return sum(f.kind in JAILS and f.value in USERS for f in findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=21.0, help="simulated days per seed (21)")
    parser.add_argument("--seeds", default="2001-2010", help="a range FIRST-LAST")
    args = parser.parse_args()
    first, last = (int(part) for part in args.seeds.split("-"))
    totals = [0, 0]
    for seed in range(first, last + 1):
        records = logins(seed, args.days)
        banned = [user_bans(records, forgive=False), user_bans(records, forgive=True)]
        totals = [totals[0] + banned[0], totals[1] + banned[1]]
        print(f"seed {seed}: {len(records)} logins, users banned without forgiveness"
              f" {banned[0]}, with {banned[1]}")  # fmt: skip
    runs = f"{last - first + 1} x {args.days:g} days"
    print(f"total over {runs}: without {totals[0]}, with {totals[1]}")


if __name__ == "__main__":
    main()
