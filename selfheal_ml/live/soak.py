"""A live soak: faults of the catalogue's kinds, one after another, against a running stack.

For each fault of the plan (:func:`soak_plan`: the kinds in turn, platforms drawn with the
seed) it injects the fault through ``POST /sim/faults`` with a ``duration_s`` of
``timeout_s``, so a fault the loop does not end expires by itself (the simulator records it as
``expired``, which the scoring does not count as resolved) and never spills into the next
one; then it waits until the simulator says the fault ended, optionally approving high-risk
repairs that waited ``approve_after_s`` (a simulated on-call, as in the chaos benchmark).
At the end it reads the ground truth and what the service did over HTTP and scores them with
the chaos benchmark's functions (:func:`selfheal_ml.evaluation.live_soak.score_live`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from selfheal_ml.actions.guard import DEFAULT_RISK_TIERS
from selfheal_ml.errors import ValidationError
from selfheal_ml.evaluation.live_soak import score_live
from selfheal_ml.live.client import LiveClient
from selfheal_ml.sim.catalogue import CATALOGUE, FaultKind

PLATFORMS = ("leadsite.ai", "leadsite.io", "clientcontact.io", "videosite.io", "tackle.io")
#: Where a dependency fault's cause lives (the component the diagnosis should name).
DEPENDENCY_OF = {
    kind.value: {"database": "postgres", "cache": "redis"}[spec.scope]
    for kind, spec in CATALOGUE.items()
    if spec.scope != "platform"
}
HIGH_RISK_ACTIONS = frozenset(name for name, risk in DEFAULT_RISK_TIERS.items() if risk == "high")
POLL_S = 2.0
GRACE_S = 10.0  # past the fault's expiry, the simulator may take a request to notice


@dataclass(frozen=True)
class SoakOptions:
    """How many faults, how long to wait for each, the pause between them, the approver."""

    faults: int
    interval_s: float = 10.0
    timeout_s: float = 300.0
    approve_after_s: float | None = None
    kinds: tuple[str, ...] = tuple(kind.value for kind in FaultKind)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.faults < 1:
            raise ValidationError("faults", f"expected at least 1, got {self.faults}")
        if self.interval_s < 0:
            raise ValidationError("interval", f"expected >= 0 s, got {self.interval_s}")
        if self.timeout_s <= 0:
            raise ValidationError("timeout", f"expected > 0 s, got {self.timeout_s}")
        if self.approve_after_s is not None and self.approve_after_s < 0:
            raise ValidationError("approve_after", f"expected >= 0 s, got {self.approve_after_s}")
        unknown = sorted(set(self.kinds) - {kind.value for kind in FaultKind})
        if unknown or not self.kinds:
            raise ValidationError("kinds", f"expected catalogue kinds, got {unknown or 'none'}")


def soak_plan(options: SoakOptions) -> list[tuple[str, str]]:
    """``(kind, platform)`` per fault: the kinds in turn, each on a platform drawn by seed.

    >>> soak_plan(SoakOptions(faults=3, kinds=("service_crash", "slow_query"), seed=1))[1][0]
    'slow_query'
    """
    rng = random.Random(options.seed)
    kinds = options.kinds
    return [(kinds[i % len(kinds)], rng.choice(PLATFORMS)) for i in range(options.faults)]


def _approve_due(client: LiveClient, approve_after_s: float | None) -> None:
    if approve_after_s is None:
        return
    now = datetime.now(UTC)
    for entry in client.pending():
        waited_s = (now - datetime.fromisoformat(entry["requestedAt"])).total_seconds()
        if waited_s >= approve_after_s:
            client.approve(str(entry["id"]))


def wait_for_end(client: LiveClient, fault_id: str, options: SoakOptions) -> dict[str, Any]:
    """Poll until the simulator says the fault ended (repaired or expired); its record."""
    deadline = time.monotonic() + options.timeout_s + GRACE_S
    record = client.fault(fault_id)
    while record["active"] and time.monotonic() < deadline:
        time.sleep(POLL_S)
        _approve_due(client, options.approve_after_s)
        record = client.fault(fault_id)
    return record


@dataclass(frozen=True)
class SoakResult:
    """What was injected and the scored report (the chaos benchmark's keys)."""

    started_at: datetime
    ended_at: datetime
    faults: list[dict[str, Any]]
    report: dict[str, Any]

    def as_dict(self, options: SoakOptions) -> dict[str, Any]:
        """JSON-ready: the report's keys, then the options and one entry per fault."""
        keys = ("fault_id", "kind", "platform", "injected_at", "resolved_at", "resolved_by")
        return {
            **self.report,
            "soak": {**asdict(options), "started_at": self.started_at.isoformat(),
                     "ended_at": self.ended_at.isoformat()},
            "faults": [{key: fault.get(key) for key in keys} for fault in self.faults],
        }  # fmt: skip


def run_soak(client: LiveClient, options: SoakOptions, progress: bool = True) -> SoakResult:
    """Inject the plan's faults one after another, then score the run (module doc)."""
    started = datetime.now(UTC)
    injected: list[str] = []
    plan = soak_plan(options)
    for kind, platform in tqdm(plan, desc="faults", unit="fault", disable=not progress):
        fault_id = client.inject(kind, platform, duration_s=options.timeout_s)
        injected.append(fault_id)
        wait_for_end(client, fault_id, options)
        time.sleep(options.interval_s)
    return collect(client, injected, started)


def collect(client: LiveClient, fault_ids: Sequence[str], started: datetime) -> SoakResult:
    """Read ground truth and the service's record over HTTP and score them."""
    ended = datetime.now(UTC)
    wanted = set(fault_ids)
    faults = [record for record in client.faults() if record["fault_id"] in wanted]
    report = score_live(
        faults,
        client.incidents(),
        client.alerts(),
        client.audit(),
        dependency_of=DEPENDENCY_OF,
        high_risk_actions=HIGH_RISK_ACTIONS,
        platform_count=len(PLATFORMS),
        run_start=started,
        run_end=ended,
    )
    return SoakResult(started, ended, faults, report.as_dict())
