"""Attack traffic in virtual time: planned attacks started when due, the access log written.

The chaos benchmark's Scenario 3 runs the live path's pieces under a ``SimClock``:
:class:`AttackDriver` is called before each round of ticks (``Scheduler.before_ticks``, after
the fault driver); it starts the attacks of an :func:`~selfheal_ml.sim.attack_plan.plan_attacks`
schedule that are due, starts a ``brute_force`` attack in the log for every injected
``brute_force_login`` fault (as ``sim serve --access-log`` does), and has the
:class:`~selfheal_ml.sim.access_log.AccessLog` append everything up to the clock's time to the
JSON-lines file. The Security agent tails that file through its ``[[security.sources]]``
entry, exactly as it tails the live simulator's log; the log's ``banned`` callable (the ban
policy in force) makes the simulator refuse banned addresses, as the bouncer does live.

A ``brute_force_login`` fault that the Repair agent's ``block_ip`` ended (the simulator's
fault record says so) blocks its attack's addresses for :data:`BLOCK_IP_S`, as the simulator's
repair says it does: :meth:`AttackDriver.blocked` is part of the log's ``banned``. Before, the
attacker kept failing logins in the log for the rest of the fault's duration after the repair
had ended the fault, and each of its bans' expiries opened a new attack incident.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from selfheal_ml.sim.access_log import AccessLog
from selfheal_ml.sim.attack_plan import PlannedAttack
from selfheal_ml.sim.catalogue import FaultKind, FaultRecord, RepairAction
from selfheal_ml.sim.traffic import DEFAULT_RATES, Attack, AttackKind

FAULT_ATTACK_S = 300.0  # a brute_force_login fault without an expiry: the live default
BLOCK_IP_S = 3600.0  # how long the simulator's block_ip blocks the attacker (sim/repairs.py)


class AttackDriver:
    """Keeps the access log in step with the clock and starts attacks when due."""

    def __init__(
        self,
        access_log: AccessLog,
        plan: Sequence[PlannedAttack],
        start: datetime,
        *,
        faults: Callable[[], Sequence[FaultRecord]] | None = None,
        injected: Callable[[], int] | None = None,
    ) -> None:
        """``faults``/``injected``: the simulator's fault records and how many faults the
        fault driver has injected so far (read only when the count moves)."""
        self.access_log = access_log
        self.plan = tuple(plan)
        self.start = start
        self.faults = faults
        self.injected = injected
        self.started = 0
        self.faults_seen = 0
        self._fault_attacks: dict[str, Attack] = {}  # fault id -> its attack, until repaired
        self._blocked: dict[str, datetime] = {}  # address -> blocked until (block_ip)

    @property
    def attacks(self) -> list[Attack]:
        """Ground truth of every attack started so far."""
        return self.access_log.model.attacks

    def __call__(self, now: datetime) -> None:
        model = self.access_log.model
        for planned in self.plan[self.started :]:
            due = self.start + timedelta(seconds=planned.at_s)
            if due > now:
                break
            model.start_attack(planned.kind, planned.platform, due, duration_s=planned.duration_s)
            self.started += 1
        self._attacks_of_faults(now)
        self._repaired_faults(now)
        self.access_log.catch_up()

    def blocked(self, address: str, now: datetime) -> bool:
        """Whether the simulator's ``block_ip`` repair blocks ``address`` at ``now``."""
        until = self._blocked.get(address)
        return until is not None and now < until

    def _repaired_faults(self, now: datetime) -> None:
        if self.faults is None or not self._fault_attacks:
            return
        for record in self.faults():
            attack = self._fault_attacks.get(record.fault_id)
            if attack is None or record.resolved_at is None or record.resolved_at > now:
                continue
            del self._fault_attacks[record.fault_id]
            if record.resolved_by == RepairAction.BLOCK_IP.value:
                until = record.resolved_at + timedelta(seconds=BLOCK_IP_S)
                self._blocked.update(dict.fromkeys(attack.addresses, until))

    def _attacks_of_faults(self, now: datetime) -> None:
        if self.faults is None or self.injected is None or self.injected() == self.faults_seen:
            return
        records = self.faults()
        for record in records[self.faults_seen :]:
            if record.kind is FaultKind.BRUTE_FORCE_LOGIN and record.injected_at <= now:
                lasts = (
                    (record.expires_at - record.injected_at).total_seconds()
                    if record.expires_at is not None
                    else FAULT_ATTACK_S
                )
                self._fault_attacks[record.fault_id] = self.access_log.model.start_attack(
                    AttackKind.BRUTE_FORCE,
                    record.platform or record.platforms[0],
                    record.injected_at,
                    duration_s=lasts,
                    rate_per_s=DEFAULT_RATES[AttackKind.BRUTE_FORCE] * max(record.severity, 0.1),
                    fault_id=record.fault_id,
                )
        self.faults_seen = len(records)
