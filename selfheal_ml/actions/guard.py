"""The safety guard: one gate every repair passes, so automated repair cannot run away.

The checks run in this order, and the first that objects decides:

1. **Global switch and dry run.** ``enabled=False`` refuses everything. ``auto_repair=False``
   executes nothing: the decision is ``dry_run`` and its reason says what the other checks
   would have decided, so a dry run shows what *would* happen.
2. **Allow-list and risk tier.** An action missing from ``risk_tiers`` is refused. The
   effective risk is the higher of the tier and the request's own estimate. High-risk actions
   wait for a human (``pending_approval``) once the checks below pass, and are checked again
   when approved (``approved=True``).
3. **Per-target cooldown and rate limit.** No action on a target within ``cooldown_s`` of the
   previous one, and at most ``rate_limit`` actions per target in any ``rate_window_s``.
4. **Circuit breaker.** After ``breaker_threshold`` consecutive ineffective attempts on a
   target it opens: refused and escalated until :meth:`SafetyGuard.reset_breaker` or, after
   ``breaker_cooloff_s``, one trial action (half-open) that closes it if it works.
5. **Blast-radius cap.** Actions in flight (executed, outcome not yet recorded) may cover at
   most ``max_platform_share`` of the ``platform_count`` platforms (at least one).

:meth:`SafetyGuard.check` is pure: it reads the state and decides. The caller reports what it
did with :meth:`~SafetyGuard.record_start` and :meth:`~SafetyGuard.record_outcome`; windows
are measured on the ``now`` it is given, so a ``SimClock`` drives them deterministically.

>>> from datetime import UTC, datetime
>>> guard = SafetyGuard(GuardPolicy(platform_count=4))
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> request = RepairRequest("inc-1", "corr-1", "restart_service", "leadsite.ai")
>>> guard.check(request, now).decision
'executed'
>>> ticket = guard.record_start(request, now)
>>> guard.check(request, now).reason
'target leadsite.ai is cooling down: last action 0 s ago, cooldown 60 s'
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from selfheal_ml.actions.base import RepairRequest, Risk
from selfheal_ml.errors import ConfigError
from selfheal_ml.events import new_id

#: The actions we know, with their risk tier: the simulator's ``RepairAction`` values and the
#: real executors' operations. High risk = needs a human's approval.
DEFAULT_RISK_TIERS: Mapping[str, Risk] = MappingProxyType(
    {
        "restart_service": "low",
        "clear_cache": "low",
        "reset_db_connections": "low",
        "restart_background_job": "low",
        "rollback_config": "low",
        "reindex": "low",
        "clear_temp_files": "low",
        "scale_out": "low",
        "block_ip": "low",
        "add_index": "high",
        "restore_from_backup": "high",
        "pg_terminate_idle": "low",
        "pg_terminate_stuck": "low",
        "pg_reindex": "low",
        "pg_create_index_concurrently": "high",
        "redis_delete_pattern": "low",
        "redis_memory_purge": "low",
        "restart_process": "low",
        "webhook": "low",
    }
)


@dataclass(frozen=True)
class GuardPolicy:
    """The guard's limits (see the module doc for what each one does)."""

    enabled: bool = True
    auto_repair: bool = True
    risk_tiers: Mapping[str, Risk] = field(default_factory=lambda: DEFAULT_RISK_TIERS)
    approval_timeout_s: float = 900.0
    cooldown_s: float = 60.0
    rate_limit: int = 5
    rate_window_s: float = 3600.0
    breaker_threshold: int = 3
    breaker_cooloff_s: float | None = 3600.0
    platform_count: int = 1
    max_platform_share: float = 0.5
    in_flight_timeout_s: float = 900.0

    def __post_init__(self) -> None:
        for name in ("approval_timeout_s", "rate_window_s", "in_flight_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(name, "a duration > 0 s", getattr(self, name))
        if self.cooldown_s < 0:
            raise ConfigError("cooldown_s", "a duration >= 0 s", self.cooldown_s)
        for name in ("rate_limit", "breaker_threshold", "platform_count"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "an integer >= 1", getattr(self, name))
        if not 0 < self.max_platform_share <= 1:
            raise ConfigError("max_platform_share", "a share in (0, 1]", self.max_platform_share)
        if self.breaker_cooloff_s is not None and self.breaker_cooloff_s <= 0:
            raise ConfigError(
                "breaker_cooloff_s", "a duration > 0 s or None", self.breaker_cooloff_s
            )

    @property
    def max_platforms(self) -> int:
        """How many platforms may have actions in flight at once.

        >>> GuardPolicy(platform_count=5, max_platform_share=0.5).max_platforms
        2
        >>> GuardPolicy(platform_count=1, max_platform_share=0.2).max_platforms
        1
        """
        return max(1, math.floor(self.platform_count * self.max_platform_share + 1e-9))


class Refusal(StrEnum):
    """Why a request was refused, as a value callers can branch on (the ``reason`` text is for
    people). :data:`TRANSIENT_REFUSALS` pass by themselves: retry later."""

    SWITCHED_OFF = "switched_off"
    NOT_ALLOWED = "not_allowed"
    COOLING_DOWN = "cooling_down"
    RATE_LIMITED = "rate_limited"
    BREAKER_OPEN = "breaker_open"
    BREAKER_HALF_OPEN = "breaker_half_open"
    BLAST_RADIUS = "blast_radius"
    NO_EXECUTOR = "no_executor"


#: Refusals that lift by themselves as time passes.
TRANSIENT_REFUSALS = frozenset(
    {Refusal.COOLING_DOWN, Refusal.RATE_LIMITED, Refusal.BREAKER_HALF_OPEN, Refusal.BLAST_RADIUS}
)


@dataclass(frozen=True)
class Decision:
    """The guard's verdict: ``decision`` is the audit log's word for it (``executed``,
    ``dry_run``, ``refused``, ``pending_approval``); ``refusal`` says why a refused request
    was refused; ``escalate`` asks for a human."""

    allowed: bool
    decision: str
    reason: str
    escalate: bool = False
    refusal: Refusal | None = None


@dataclass(frozen=True)
class _InFlight:
    target: str
    platform: str
    started_at: datetime


@dataclass
class _Breaker:
    failures: int = 0
    opened_at: datetime | None = None


@dataclass
class _TargetState:
    executions: deque[datetime] = field(default_factory=deque)
    breaker: _Breaker = field(default_factory=_Breaker)


def _refused(refusal: Refusal, reason: str, escalate: bool = False) -> Decision:
    return Decision(
        allowed=False, decision="refused", reason=reason, escalate=escalate, refusal=refusal
    )


class SafetyGuard:
    """Decides whether a repair may run now (see module doc); state lives in memory, and the
    repair service keeps a durable copy (:meth:`breaker_state`, ``restore_*``)."""

    def __init__(self, policy: GuardPolicy) -> None:
        self.policy = policy
        self._targets: dict[str, _TargetState] = {}
        self._in_flight: dict[str, _InFlight] = {}

    def check(self, request: RepairRequest, now: datetime, *, approved: bool = False) -> Decision:
        """The verdict for ``request`` at ``now``; changes no state (beyond dropping
        executions that fell out of the rate window)."""
        if not self.policy.enabled:
            return _refused(Refusal.SWITCHED_OFF, "repair is switched off (global switch)")
        verdict = self._evaluate(request, now, approved)
        if not self.policy.auto_repair:
            would = "execute" if verdict.allowed else verdict.decision.replace("_", " ")
            reason = f"dry run (auto repair off): would {would}: {verdict.reason}"
            return Decision(allowed=False, decision="dry_run", reason=reason)
        return verdict

    def risk_of(self, request: RepairRequest) -> Risk | None:
        """The effective risk (the higher of tier and estimate); ``None`` if not allowed."""
        tier = self.policy.risk_tiers.get(request.action)
        if tier is None:
            return None
        return "high" if "high" in (tier, request.risk) else "low"

    def record_start(self, request: RepairRequest, now: datetime) -> str:
        """Note that ``request`` is executing from ``now``; returns a ticket for the outcome."""
        self._state(request.target).executions.append(now)
        ticket = new_id()
        self._in_flight[ticket] = _InFlight(request.target, request.platform, now)
        return ticket

    def record_outcome(self, ticket: str, worked: bool, now: datetime) -> bool:
        """Close the ticket; feeds the breaker. Returns whether this outcome opened it."""
        flight = self._in_flight.pop(ticket, None)
        if flight is None:
            return False
        breaker = self._state(flight.target).breaker
        if worked:
            breaker.failures, breaker.opened_at = 0, None
            return False
        breaker.failures += 1
        if breaker.failures >= self.policy.breaker_threshold:
            was_open = breaker.opened_at is not None
            breaker.opened_at = now
            return not was_open
        return False

    def drop_ticket(self, ticket: str) -> None:
        """Forget an execution whose outcome nobody can verify any more (not a failure: the
        breaker is not fed)."""
        self._in_flight.pop(ticket, None)

    def reset_breaker(self, target: str) -> None:
        """Close the breaker of ``target`` (a human fixed the cause)."""
        self._state(target).breaker = _Breaker()

    def breaker_state(self, target: str) -> tuple[int, datetime | None]:
        """``(failures, opened_at)`` of the breaker of ``target``: what is kept durable."""
        breaker = self._state(target).breaker
        return breaker.failures, breaker.opened_at

    # ---- after a restart: the state kept durable comes back (oldest execution first) ------
    def restore_breaker(self, target: str, failures: int, opened_at: datetime | None) -> None:
        """Set the breaker of ``target`` as it was before the restart."""
        self._state(target).breaker = _Breaker(failures, opened_at)

    def restore_execution(
        self, request: RepairRequest, started_at: datetime, ticket: str | None
    ) -> None:
        """Count an execution started before the restart in the cooldown and rate window;
        with a ``ticket`` it is still in flight (executed, outcome not yet recorded)."""
        self._state(request.target).executions.append(started_at)
        if ticket is not None:
            self._in_flight[ticket] = _InFlight(request.target, request.platform, started_at)

    def breaker_open(self, target: str, now: datetime) -> bool:
        """Whether the breaker of ``target`` refuses actions at ``now``."""
        breaker = self._state(target).breaker
        if breaker.opened_at is None:
            return False
        cooloff_s = self.policy.breaker_cooloff_s
        return cooloff_s is None or now < breaker.opened_at + timedelta(seconds=cooloff_s)

    def in_flight_platforms(self, now: datetime) -> set[str]:
        """Platforms with an action executing or awaiting its outcome (stale ones dropped)."""
        return {flight.platform for flight in self._fresh_flights(now)}

    def _fresh_flights(self, now: datetime) -> list[_InFlight]:
        horizon = now - timedelta(seconds=self.policy.in_flight_timeout_s)
        return [flight for flight in self._in_flight.values() if flight.started_at > horizon]

    def _state(self, target: str) -> _TargetState:
        return self._targets.setdefault(target, _TargetState())

    def _evaluate(self, request: RepairRequest, now: datetime, approved: bool) -> Decision:
        risk = self.risk_of(request)
        if risk is None:
            return _refused(
                Refusal.NOT_ALLOWED, f"action {request.action} is not on the allow-list"
            )
        for gate in (self._limits, self._breaker, self._blast_radius):
            refusal = gate(request, now)
            if refusal is not None:
                return refusal
        if risk == "high" and not approved:
            return Decision(False, "pending_approval", "high risk: waits for a human's approval")
        how = "high risk, approved" if approved else f"{risk} risk"
        return Decision(allowed=True, decision="executed", reason=f"{how}; within limits")

    def _limits(self, request: RepairRequest, now: datetime) -> Decision | None:
        executions = self._state(request.target).executions
        window_start = now - timedelta(seconds=self.policy.rate_window_s)
        while executions and executions[0] <= window_start:
            executions.popleft()
        if executions:
            since_s = (now - executions[-1]).total_seconds()
            if since_s < self.policy.cooldown_s:
                return _refused(
                    Refusal.COOLING_DOWN,
                    f"target {request.target} is cooling down: last action {since_s:.0f} s ago,"
                    f" cooldown {self.policy.cooldown_s:.0f} s",
                )
        if len(executions) >= self.policy.rate_limit:
            return _refused(
                Refusal.RATE_LIMITED,
                f"target {request.target} hit its rate limit: {len(executions)} actions in"
                f" the last {self.policy.rate_window_s:.0f} s",
            )
        return None

    def _breaker(self, request: RepairRequest, now: datetime) -> Decision | None:
        breaker = self._state(request.target).breaker
        if self.breaker_open(request.target, now):
            return _refused(
                Refusal.BREAKER_OPEN,
                f"circuit breaker open for target {request.target} after {breaker.failures}"
                " ineffective attempts; a human must look",
                escalate=True,
            )
        trial_running = any(f.target == request.target for f in self._fresh_flights(now))
        if breaker.opened_at is not None and trial_running:
            return _refused(
                Refusal.BREAKER_HALF_OPEN,
                f"circuit breaker half-open for {request.target}: a trial is running",
            )
        return None

    def _blast_radius(self, request: RepairRequest, now: datetime) -> Decision | None:
        platforms = self.in_flight_platforms(now) | {request.platform}
        cap = self.policy.max_platforms
        if len(platforms) > cap:
            return _refused(
                Refusal.BLAST_RADIUS,
                f"blast-radius cap: acting on {request.platform} would put actions in flight on"
                f" {len(platforms)} of {self.policy.platform_count} platforms (cap {cap})",
            )
        return None
