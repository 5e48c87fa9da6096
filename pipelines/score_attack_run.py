"""Score Scenario 3 from what a chaos run left on disk: its access log and a copy of its store.

Usage:

    python pipelines/score_attack_run.py --log chaos.attack_access.jsonl --db chaos-copy.duckdb

For a run that has not finished (the benchmark's report is written at its end): copy its
DuckDB file (and its .wal) elsewhere and score the copy, up to its newest finding. The attacks
are recovered from the log: every address outside the simulator's users and health checkers is
an attacker (sim/traffic.py gives each attack fresh, consecutive addresses), and consecutive
addresses first seen within 120 s of each other are one attack (a distributed brute force's
40, a leaked key's 8). The kind is read from the traffic (failed logins on admin only:
distributed; on many accounts: credential stuffing; on a few: brute force; an API key; probe
payloads; else scraping). Blocked: the simulator's first refused request (403: the ban in
force) from one of its addresses; detected: a finding (not unusual_access) about one of its
addresses, or its account or key, by 600 s after its end (at the time of the event that
completed the count, not of its announcement up to one 10-s read later); wrong blocks:
enforced bans of users, health checkers and any other address no attacker used. Incidents:
incidents whose first revision naming an attack is on the attack's platform between its first
and last request plus 600 s (the incident history is the Learning agent's: a run with it off
has none).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from selfheal_ml.attack_scenario import ATTACK_CAUSES, DISTRIBUTED_ACCOUNT, LEAKED_KEY
from selfheal_ml.sim.traffic import HEALTH_CHECKERS, USER_ADDRESSES

LEGITIMATE = {**dict.fromkeys(USER_ADDRESSES.values(), "user"),
              **dict.fromkeys(HEALTH_CHECKERS, "health_checker")}  # fmt: skip
SAME_ATTACK_S = 120.0
#: what an attack of a kind is found by besides its addresses (attack_scenario.py's targets)
TARGETS = {"distributed_brute_force": (DISTRIBUTED_ACCOUNT,), "api_key_misuse": (LEAKED_KEY,)}
GRACE_S = 600.0
TARGET_S = 30.0


@dataclass
class Source:
    """One attacker address as the log shows it."""

    address: str
    platform: str
    first: datetime
    last: datetime
    refused: datetime | None = None  # the first request refused (403): the ban in force
    users: set[str] = field(default_factory=set)
    api_key: bool = False
    probes: bool = False


@dataclass
class Attack:
    """Consecutive attacker addresses first seen together."""

    sources: list[Source]

    @property
    def start(self) -> datetime:
        return min(source.first for source in self.sources)

    @property
    def end(self) -> datetime:
        return max(source.last for source in self.sources)

    @property
    def kind(self) -> str:
        users = set().union(*(source.users for source in self.sources))
        if any(source.api_key for source in self.sources):
            return "api_key_misuse"
        if any(source.probes for source in self.sources):
            return "injection_probe"
        if users == {"admin"} and len(self.sources) > 1:
            return "distributed_brute_force"
        if len(users) > 10:
            return "credential_stuffing"
        return "brute_force" if users else "scraping"


def read_sources(path: str) -> dict[str, Source]:
    """Every attacker address in the log."""
    sources: dict[str, Source] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            event = json.loads(line)
            address = event["ip"]
            if address in LEGITIMATE:
                continue
            at = datetime.fromisoformat(event["time"])
            source = sources.get(address)
            if source is None:
                source = sources[address] = Source(address, event["platform"], at, at)
            source.last = max(source.last, at)
            if event.get("status") == 403 and source.refused is None:
                source.refused = at
            if event.get("user") and event["event"] == "login_failed":
                source.users.add(event["user"])
            source.api_key |= bool(event.get("api_key"))
            source.probes |= event.get("status") == 400 and bool(event.get("body"))
    return sources


def group(sources: dict[str, Source]) -> list[Attack]:
    """Consecutive addresses first seen within ``SAME_ATTACK_S`` of each other: one attack."""
    ordered = sorted(sources.values(), key=lambda s: int(ipaddress.ip_address(s.address)))
    ordered.sort(key=lambda s: s.address.startswith("100.64."))  # 203.0.113.x come first
    attacks: list[Attack] = []
    for source in ordered:
        current = attacks[-1] if attacks else None
        if current is not None and abs((source.first - current.start).total_seconds()) <= (
            SAME_ATTACK_S
        ):
            current.sources.append(source)
        else:
            attacks.append(Attack([source]))
    return attacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="the run's JSON-lines access log")
    parser.add_argument("--db", required=True, help="the run's DuckDB store (or a copy)")
    args = parser.parse_args()
    store = duckdb.connect(args.db, read_only=True)
    bans = store.sql("select value, decided_at from ban_decisions where action = 'ban'"
                     " order by decided_at").fetchall()  # fmt: skip
    horizon = store.sql("select max(detected_at) from security_findings").fetchall()[0][0]
    revisions = store.sql("select incident_id, ts, diagnosis->>'root_cause',"
                          " diagnosis->>'component' from incident_revisions"
                          " order by ts").fetchall()  # fmt: skip
    first_attack_revision: dict[str, tuple[datetime, str]] = {}
    for incident_id, at, cause, component in revisions:
        if cause in ATTACK_CAUSES and incident_id not in first_attack_revision:
            first_attack_revision[incident_id] = (at, component or "")
    sources = read_sources(args.log)
    attacks = group(sources)
    if horizon is not None:  # a copy of an unfinished run: only attacks it saw through
        attacks = [a for a in attacks if a.end + timedelta(seconds=GRACE_S) <= horizon]
    found: dict[str, list[datetime]] = defaultdict(list)
    for value, at in store.sql("select value, detected_at from security_findings where kind !="
                               " 'unusual_access'").fetchall():  # fmt: skip
        found[value].append(at)
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    block_times: list[float] = []
    for attack in attacks:
        row = rows[attack.kind]
        row["attacks"] += 1
        about = [source.address for source in attack.sources] + list(TARGETS.get(attack.kind, ()))
        seen = [at for value in about for at in found.get(value, [])
                if attack.start <= at <= attack.end + timedelta(seconds=GRACE_S)]  # fmt: skip
        row["detected"] += bool(seen)
        if seen:
            detect_s = (min(seen) - attack.start).total_seconds()
            row["detect_max_s"] = max(row["detect_max_s"], round(detect_s))
        times = [source.refused for source in attack.sources if source.refused is not None]
        if times:
            seconds = (min(times) - attack.start).total_seconds()
            block_times.append(seconds)
            row["blocked"] += 1
            row["within_30_s"] += seconds <= TARGET_S
            row["block_max_s"] = max(row["block_max_s"], round(seconds))
        platform = attack.sources[0].platform
        window = (attack.start, attack.end + timedelta(seconds=GRACE_S))
        incidents = sum(window[0] <= at <= window[1] and component == platform
                        for at, component in first_attack_revision.values())  # fmt: skip
        row["with_one_incident"] += incidents == 1
        row["with_several_incidents"] += incidents > 1
    wrong = Counter(LEGITIMATE.get(value, "other") for value, _ in bans if value not in sources)
    print(f"scored up to {horizon}: {len(attacks)} attacks")
    for kind, row in sorted(rows.items()):
        print(f"  {kind}: {dict(row)}")
    late = sum(t > TARGET_S for t in block_times)
    median = statistics.median(block_times) if block_times else None
    print(
        f"blocked {len(block_times)}, median {median} s, max {max(block_times, default=None)}"
        f" s, later than {TARGET_S:.0f} s: {late}; wrong blocks: {dict(wrong)}"
    )


if __name__ == "__main__":
    main()
