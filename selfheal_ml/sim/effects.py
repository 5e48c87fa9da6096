"""How each fault kind (and each repair's side effect) pushes on the simulated system.

A fault does not set metrics directly: it adds *effects* (extra traffic, a full connection
pool, memory that keeps growing, a slower query plan ...) and :mod:`selfheal_ml.sim.dynamics`
turns the effects into metrics through the same equations that produce normal behaviour. That
is why symptoms propagate: a database fault raises query time, and every endpoint's latency is
made partly of query time. Effects are functions of how long a fault has been active, so ending
a fault removes its effects at once.

>>> import numpy as np
>>> effects = Effects.neutral(platforms=2, endpoints=4, steps=1)
>>> effects.add_errors(np.array([True, False, False, False]), 0.5)
>>> effects.add_errors(np.array([True, True, False, False]), 0.5)
>>> effects.error5_ratio().tolist()
[[0.75, 0.5, 0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from selfheal_ml.sim.catalogue import FaultKind

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MEMORY_LEAK_PERCENT_PER_S = 12.0 / 3600.0
DISK_FILL_PERCENT_PER_S = 12.0 / 3600.0


@dataclass
class Effects:
    """Everything that pushes the system away from normal, for a batch of T steps.

    Per platform, shape (T, P): ``surge_load`` (extra traffic in units of the platform's base
    capacity), ``attack_rps`` (extra login attempts), ``crash_ratio``, ``memory_add`` /
    ``disk_add`` / ``cpu_add`` (percentage points), ``job_stuck_s``. Per endpoint, shape (T, M):
    ``error4_add``, ``latency_add_ms``, ``origin_slow_ms``, ``latency_mult``, ``error_ok`` (share
    of requests no cause has failed so far). Dependency effects, shape (T, 1): ``db_up`` (1 or
    0), ``db_pool_full``, ``db_query_mult``, ``db_slow_per_s``, ``cache_hit_drop``,
    ``redis_memory_full``.
    """

    surge_load: FloatArray
    attack_rps: FloatArray
    crash_ratio: FloatArray
    memory_add: FloatArray
    disk_add: FloatArray
    cpu_add: FloatArray
    job_stuck_s: FloatArray
    error4_add: FloatArray
    latency_add_ms: FloatArray
    origin_slow_ms: FloatArray
    latency_mult: FloatArray
    error_ok: FloatArray
    db_up: FloatArray
    db_pool_full: FloatArray
    db_query_mult: FloatArray
    db_slow_per_s: FloatArray
    cache_hit_drop: FloatArray
    redis_memory_full: FloatArray

    @classmethod
    def neutral(cls, platforms: int, endpoints: int, steps: int = 1) -> Effects:
        """No effect at all: the system behaves normally."""

        def platform_zeros() -> FloatArray:
            return np.zeros((steps, platforms))

        def endpoint_zeros() -> FloatArray:
            return np.zeros((steps, endpoints))

        return cls(
            surge_load=platform_zeros(),
            attack_rps=platform_zeros(),
            crash_ratio=platform_zeros(),
            memory_add=platform_zeros(),
            disk_add=platform_zeros(),
            cpu_add=platform_zeros(),
            job_stuck_s=platform_zeros(),
            error4_add=endpoint_zeros(),
            latency_add_ms=endpoint_zeros(),
            origin_slow_ms=endpoint_zeros(),
            latency_mult=np.ones((steps, endpoints)),
            error_ok=np.ones((steps, endpoints)),
            db_up=np.ones((steps, 1)),
            db_pool_full=np.zeros((steps, 1)),
            db_query_mult=np.ones((steps, 1)),
            db_slow_per_s=np.zeros((steps, 1)),
            cache_hit_drop=np.zeros((steps, 1)),
            redis_memory_full=np.zeros((steps, 1)),
        )

    def add_errors(self, mask: BoolArray | FloatArray, ratio: float | FloatArray) -> None:
        """Fail ``ratio`` of the requests on the masked endpoints (independent of other causes)."""
        self.error_ok = self.error_ok * (1.0 - np.minimum(np.maximum(mask * ratio, 0.0), 1.0))

    def error5_ratio(self) -> FloatArray:
        """The combined 5xx ratio per endpoint of every cause added so far."""
        ratio: FloatArray = 1.0 - self.error_ok
        return ratio


@dataclass
class ActiveFault:
    """Internal, mutable state of one injected fault."""

    fault_id: str
    kind: FaultKind
    origin: int | None
    affected: tuple[int, ...]
    severity: float
    injected_s: float
    expires_s: float | None
    resolved_s: float | None = None
    resolved_by: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointMasks:
    """Per-endpoint arrays the effect functions need (from the platform layout)."""

    platform_of: NDArray[np.int64]
    db_fraction: FloatArray
    cache_fraction: FloatArray
    is_login: BoolArray

    def of(self, platform: int) -> BoolArray:
        """Endpoints of one platform."""
        mask: BoolArray = self.platform_of == platform
        return mask


EffectFunction = Callable[[Effects, EndpointMasks, ActiveFault, FloatArray], None]
"""Adds one fault's push to the effects; ``elapsed_s`` (T, 1) is its age at each step."""


def _origin(fault: ActiveFault) -> int:
    if fault.origin is None:
        raise ValueError(f"platform: fault {fault.fault_id} of kind {fault.kind} has no origin")
    return fault.origin


def _ramp(elapsed_s: FloatArray, over_s: float = 60.0) -> FloatArray:
    return np.minimum(1.0, elapsed_s / over_s)


def _crash(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    origin = _origin(fault)
    effects.crash_ratio[:, origin] = np.maximum(effects.crash_ratio[:, origin], fault.severity)


def _memory_leak(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    growth = MEMORY_LEAK_PERCENT_PER_S * fault.severity * elapsed_s[:, 0]
    effects.memory_add[:, _origin(fault)] += growth


def _pool_exhaustion(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    ramp = _ramp(elapsed_s) * fault.severity
    effects.db_pool_full = np.maximum(effects.db_pool_full, ramp)
    effects.latency_add_ms = effects.latency_add_ms + 2500.0 * ramp * masks.db_fraction
    effects.add_errors(np.minimum(1.0, 1.5 * masks.db_fraction), 0.15 * ramp)


def _db_unreachable(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    effects.db_up = np.zeros_like(effects.db_up)
    effects.latency_add_ms = effects.latency_add_ms + 3000.0 * masks.db_fraction
    effects.add_errors(np.minimum(1.0, 1.5 * masks.db_fraction), 0.9 * fault.severity)


def _slow_query(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    effects.db_query_mult = effects.db_query_mult * (1.0 + 3.0 * fault.severity)
    effects.db_slow_per_s = effects.db_slow_per_s + 5.0 * fault.severity
    if fault.origin is not None:
        slow = 1500.0 * fault.severity * masks.db_fraction * masks.of(fault.origin)
        effects.origin_slow_ms = effects.origin_slow_ms + slow


def _stuck_cache(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    ramp = _ramp(elapsed_s)
    effects.cache_hit_drop = np.maximum(effects.cache_hit_drop, 0.85 * fault.severity * ramp)
    effects.redis_memory_full = np.maximum(effects.redis_memory_full, ramp)


def _stuck_job(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    origin = _origin(fault)
    effects.job_stuck_s[:, origin] = np.maximum(effects.job_stuck_s[:, origin], elapsed_s[:, 0])


def _bad_config(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    mask = masks.of(_origin(fault))
    effects.add_errors(mask, 0.3 * fault.severity)
    effects.error4_add = effects.error4_add + 0.1 * fault.severity * mask
    effects.latency_mult = effects.latency_mult * (1.0 + 0.3 * fault.severity * mask)


def _disk_filling(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    growth = DISK_FILL_PERCENT_PER_S * fault.severity * elapsed_s[:, 0]
    effects.disk_add[:, _origin(fault)] += growth


def _surge(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    effects.surge_load[:, _origin(fault)] += 1.5 * fault.severity * _ramp(elapsed_s)[:, 0]


def _brute_force(
    effects: Effects, masks: EndpointMasks, fault: ActiveFault, elapsed_s: FloatArray
) -> None:
    origin = _origin(fault)
    effects.attack_rps[:, origin] += 20.0 + 60.0 * fault.severity
    effects.cpu_add[:, origin] += 10.0 * fault.severity


EFFECTS: dict[FaultKind, EffectFunction] = {
    FaultKind.SERVICE_CRASH: _crash,
    FaultKind.MEMORY_LEAK: _memory_leak,
    FaultKind.DB_POOL_EXHAUSTION: _pool_exhaustion,
    FaultKind.DB_UNREACHABLE: _db_unreachable,
    FaultKind.SLOW_QUERY: _slow_query,
    FaultKind.STUCK_CACHE: _stuck_cache,
    FaultKind.STUCK_BACKGROUND_JOB: _stuck_job,
    FaultKind.BAD_CONFIG_PUSH: _bad_config,
    FaultKind.DISK_FILLING: _disk_filling,
    FaultKind.TRAFFIC_SURGE: _surge,
    FaultKind.BRUTE_FORCE_LOGIN: _brute_force,
}


@dataclass(frozen=True)
class Blip:
    """A short side effect of a repair action (the cost of acting): until ``until_s``.

    ``platform`` is ``None`` for every platform. ``error5`` fails that ratio of requests,
    ``cache_cold`` lowers the cache hit rate, ``db_down`` takes the database away.
    """

    platform: int | None
    until_s: float
    error5: float = 0.0
    cache_cold: float = 0.0
    db_down: bool = False
    db_query_mult: float = 1.0
    login_error4: float = 0.0

    def apply(self, effects: Effects, masks: EndpointMasks) -> None:
        """Add this blip's push to ``effects`` (for every step of the batch)."""
        mask = np.ones_like(masks.is_login) if self.platform is None else masks.of(self.platform)
        if self.error5 > 0.0:
            effects.add_errors(mask, self.error5)
        if self.login_error4 > 0.0:
            effects.error4_add = effects.error4_add + self.login_error4 * (mask & masks.is_login)
        effects.cache_hit_drop = np.maximum(effects.cache_hit_drop, self.cache_cold)
        effects.db_query_mult = effects.db_query_mult * self.db_query_mult
        if self.db_down:
            effects.db_up = np.zeros_like(effects.db_up)
            effects.add_errors(np.minimum(1.0, 1.5 * masks.db_fraction), 0.9)
