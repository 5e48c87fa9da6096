"""The equations of the simulated system: from time, noise and effects to one metrics frame.

Normal behaviour: each endpoint's request rate is its platform's nominal peak times a daily
profile (trough ~04:00 UTC at 20 % of peak, peak ~16:00), a weekend dip (65 %), slow growth
(3 %/week), any running marketing campaign, and log-normal noise (Ornstein-Uhlenbeck, so it is
autocorrelated like real traffic). Utilisation against capacity (3x the nominal peak) drives a
queueing factor on latency and the host's CPU. Latency is log-normal per endpoint (p50 and a
spread), made of app time, database time (scaled by query duration) and cache time (scaled by
the miss rate). Memory above 85 % slows requests (GC), above 96 % fails some (OOM); a disk above
95 % fails writes; load beyond capacity is shed as 503s. Everything is vectorised with numpy over
platforms and endpoints.

>>> round(daily_profile(4.0), 2), round(daily_profile(16.0), 2)
(0.2, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from selfheal_ml.sim.effects import BoolArray, Effects, EndpointMasks, FloatArray
from selfheal_ml.sim.platforms import LOGIN_PATH, PlatformSpec

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
BASE_QUERY_MS = 4.0
BASE_HIT_RATIO = 0.93
DB_MAX_CONNECTIONS = 100.0
REDIS_BASE_BYTES = 1.2e9
REDIS_MAX_BYTES = 2.0e9
LOGIN_FAILURE_RATIO = 0.08
ATTACK_FAILURE_RATIO = 0.99
CAPACITY_FACTOR = 3.0
DISK_NOISE_SCALE = 0.1  # disk usage is ten times steadier than memory
GROWTH_PER_WEEK = 0.03


def daily_profile(hour: float) -> float:
    """Traffic at ``hour`` (UTC, 0..24) relative to the daily peak (0.2 .. 1.0)."""
    return 0.6 + 0.4 * math.cos(2.0 * math.pi * (hour - 16.0) / 24.0)


def seasonal_factor(t_s: FloatArray, weekday_at_zero: int, hour_at_zero: float) -> FloatArray:
    """Daily profile x weekend dip x growth at ``t_s`` seconds after the start (vectorised).

    >>> seasonal_factor(np.array([0.0, 12 * 3600.0]), weekday_at_zero=0, hour_at_zero=4.0).round(2)
    array([0.2, 1. ])
    """
    hours = hour_at_zero + t_s / 3600.0
    weekday = (weekday_at_zero + np.floor(hours / 24.0)) % 7
    weekend = np.where(weekday >= 5, 0.65, 1.0)
    growth = np.exp(math.log1p(GROWTH_PER_WEEK) * t_s / WEEK_S)
    daily = 0.6 + 0.4 * np.cos(2.0 * math.pi * (hours % 24.0 - 16.0) / 24.0)
    factor: FloatArray = daily * weekend * growth
    return factor


@dataclass(frozen=True)
class Layout:
    """Flat numpy views of the platform specs: P platforms, M endpoints, K business events."""

    platforms: tuple[PlatformSpec, ...]
    masks: EndpointMasks
    share: FloatArray
    base_p50_ms: FloatArray
    peak_rps: FloatArray
    base_memory: FloatArray
    base_disk: FloatArray
    event_platform: np.ndarray
    event_peak: FloatArray
    event_needs_job: BoolArray
    nominal_db_load: float
    membership: FloatArray

    @classmethod
    def of(cls, platforms: tuple[PlatformSpec, ...]) -> Layout:
        """Flatten ``platforms`` into arrays."""
        endpoints = [(index, ep) for index, spec in enumerate(platforms) for ep in spec.endpoints]
        events = [
            (index, ev) for index, spec in enumerate(platforms) for ev in spec.business_events
        ]
        platform_of = np.array([index for index, _ in endpoints], dtype=np.int64)
        peak = np.array([spec.peak_rps for spec in platforms])
        share = np.array([ep.traffic_share for _, ep in endpoints])
        db = np.array([ep.db_fraction for _, ep in endpoints])
        cache = np.array([ep.cache_fraction for _, ep in endpoints])
        peak_endpoint_rps = peak[platform_of] * share
        miss = 1.0 - BASE_HIT_RATIO
        return cls(
            platforms=platforms,
            masks=EndpointMasks(
                platform_of=platform_of,
                db_fraction=db,
                cache_fraction=cache,
                is_login=np.array([ep.path == LOGIN_PATH for _, ep in endpoints]),
            ),
            share=share,
            base_p50_ms=np.array([ep.base_p50_ms for _, ep in endpoints]),
            peak_rps=peak,
            base_memory=np.array([spec.base_memory_percent for spec in platforms]),
            base_disk=np.array([spec.base_disk_percent for spec in platforms]),
            event_platform=np.array([index for index, _ in events], dtype=np.int64),
            event_peak=np.array([ev.peak_per_min for _, ev in events]),
            event_needs_job=np.array([ev.needs_job for _, ev in events]),
            nominal_db_load=float(np.sum(peak_endpoint_rps * (db + 3.0 * miss * cache))),
            membership=np.eye(len(platforms))[platform_of],
        )

    @property
    def platform_count(self) -> int:
        """P."""
        return len(self.platforms)

    @property
    def endpoint_count(self) -> int:
        """M."""
        return int(self.share.size)


@dataclass
class Frame:
    """Every metric of the system over a batch of T steps (rates per second unless named).

    Endpoint fields are (T, M), platform fields (T, P), business (T, K), dependency fields (T,).
    :meth:`row` picks one instant (the leading axis dropped).
    """

    rps: FloatArray
    p50_ms: FloatArray
    p95_ms: FloatArray
    p99_ms: FloatArray
    sigma: FloatArray
    error4: FloatArray
    error5: FloatArray
    auth_attempts: FloatArray
    auth_failures: FloatArray
    cpu: FloatArray
    memory: FloatArray
    disk: FloatArray
    job_queue: FloatArray
    job_age_s: FloatArray
    business_per_min: FloatArray
    platform_error5: FloatArray
    db_up: FloatArray
    db_query_ms: FloatArray
    db_connections: FloatArray
    db_slow_per_s: FloatArray
    cache_hit: FloatArray
    redis_bytes: FloatArray

    def last(self) -> Frame:
        """The last step of the batch, still as a batch (T = 1)."""
        return Frame(*(value[-1:] for value in vars(self).values()))

    def row(self, index: int) -> Frame:
        """The frame at one step of the batch."""
        return Frame(*(np.asarray(value[index]) for value in vars(self).values()))


@dataclass
class Drivers:
    """The normal inputs over a batch of T steps: seasonality (T, 1), campaigns (T, P),
    capacity multiple (T, P), noise (T, M) / (T, P, 3) / (T, 1), time since start (T, 1)."""

    season: FloatArray
    campaign: FloatArray
    capacity_mult: FloatArray
    traffic_noise: FloatArray
    latency_noise: FloatArray
    host_noise: FloatArray
    hit_noise: FloatArray
    elapsed_s: FloatArray


def bounded(values: FloatArray, low: float, high: float | FloatArray) -> FloatArray:
    """``np.clip`` without its per-call overhead.

    >>> bounded(np.array([-1.0, 0.5, 2.0]), 0.0, 1.0).tolist()
    [0.0, 0.5, 1.0]
    """
    return np.minimum(np.maximum(values, low), high)


ATTACK_LOAD_WEIGHT = 0.3


@dataclass
class _Traffic:
    traffic: FloatArray
    rps: FloatArray
    legit_login: FloatArray
    load: FloatArray


@dataclass
class _Hosts:
    cpu: FloatArray
    memory: FloatArray
    disk: FloatArray
    gc: FloatArray
    failing: FloatArray


@dataclass
class _Database:
    hit: FloatArray
    load: FloatArray
    query_ms: FloatArray
    connections: FloatArray


def _traffic(layout: Layout, drivers: Drivers, effects: Effects) -> _Traffic:
    masks = layout.masks
    of = masks.platform_of
    traffic = drivers.season * drivers.campaign
    capacity = CAPACITY_FACTOR * layout.peak_rps * drivers.capacity_mult
    rps = layout.peak_rps[of] * layout.share * traffic[:, of] * np.exp(drivers.traffic_noise)
    surge = effects.surge_load * (CAPACITY_FACTOR * layout.peak_rps)
    rps = rps + surge[:, of] * layout.share * ~masks.is_login
    legit_login = rps * masks.is_login
    attack = effects.attack_rps[:, of] * masks.is_login
    load = ((rps + ATTACK_LOAD_WEIGHT * attack) @ layout.membership) / capacity
    return _Traffic(traffic, rps + attack, legit_login, load)


def _hosts(layout: Layout, drivers: Drivers, effects: Effects, load: FloatArray) -> _Hosts:
    crash = effects.crash_ratio
    noise = drivers.host_noise
    memory = layout.base_memory + 12.0 * np.minimum(load, 2.0) + noise[:, :, 1]
    memory = bounded(memory + effects.memory_add, 1.0, 99.5)
    memory = memory * (1.0 - crash) + 15.0 * crash
    gc = bounded((memory - 85.0) / 15.0, 0.0, 1.0)
    disk = layout.base_disk + 0.05 * drivers.elapsed_s / DAY_S + noise[:, :, 2] * DISK_NOISE_SCALE
    disk = bounded(disk + effects.disk_add, 1.0, 100.0)
    cpu = 8.0 + 60.0 * np.minimum(load, 1.2) + 25.0 * gc + effects.cpu_add + noise[:, :, 0]
    cpu = bounded(cpu * (1.0 - crash) + 2.0 * crash, 0.5, 100.0)
    shed = np.maximum(0.0, 1.0 - 1.0 / np.maximum(load, 1e-9))
    oom = 0.3 * bounded((memory - 96.0) / 3.0, 0.0, 1.0)
    disk_errors = 0.4 * bounded((disk - 95.0) / 4.0, 0.0, 1.0)
    ok = (1.0 - crash) * (1.0 - shed) * (1.0 - oom) * (1.0 - disk_errors)
    return _Hosts(cpu, memory, disk, gc, 1.0 - ok)


def _database(layout: Layout, drivers: Drivers, effects: Effects, rps: FloatArray) -> _Database:
    masks = layout.masks
    hit = bounded(BASE_HIT_RATIO + drivers.hit_noise - effects.cache_hit_drop, 0.01, 0.99)
    demand = rps * masks.db_fraction + 3.0 * (1.0 - hit) * (rps * masks.cache_fraction)
    load = demand.sum(axis=1, keepdims=True) / layout.nominal_db_load
    query_ms = BASE_QUERY_MS * (1.0 + 0.4 * load**2) * effects.db_query_mult
    connections = 8.0 + 30.0 * load * np.sqrt(effects.db_query_mult)
    connections = connections + (DB_MAX_CONNECTIONS - connections) * effects.db_pool_full
    connections = np.minimum(connections, DB_MAX_CONNECTIONS) * effects.db_up
    query_ms = np.where(effects.db_up > 0.0, query_ms, 5000.0)
    return _Database(hit, load, query_ms, connections)


def _median_latency(
    layout: Layout, drivers: Drivers, effects: Effects, load: FloatArray, db: _Database
) -> FloatArray:
    masks = layout.masks
    capped = np.minimum(load, 0.97)
    queue = 1.0 + 0.5 * capped / (1.0 - capped)
    db_ratio = np.where(effects.db_up > 0.0, db.query_ms / BASE_QUERY_MS, 1.0)
    cache_factor = 1.0 + 8.0 * np.maximum(0.0, BASE_HIT_RATIO - db.hit)
    app = 1.0 - masks.db_fraction - masks.cache_fraction
    parts = app * queue[:, masks.platform_of] + masks.db_fraction * db_ratio
    parts = parts + masks.cache_fraction * cache_factor
    p50 = layout.base_p50_ms * parts * effects.latency_mult * np.exp(drivers.latency_noise)
    return p50 + effects.latency_add_ms + effects.origin_slow_ms


def _business(
    layout: Layout, drivers: Drivers, effects: Effects, traffic: FloatArray, error5: FloatArray
) -> FloatArray:
    counts = layout.membership.sum(axis=0)
    wobble = np.exp((drivers.traffic_noise @ layout.membership) / counts)
    ev = layout.event_platform
    business = layout.event_peak * (traffic * wobble)[:, ev] * (1.0 - error5[:, ev])
    job_ok = effects.job_stuck_s <= 0.0
    result: FloatArray = business * (job_ok[:, ev] | ~layout.event_needs_job)
    return result


def _client_errors(
    layout: Layout, effects: Effects, flow: _Traffic, error5: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """4xx ratio per endpoint (2 % normally; failed logins on the login endpoint) and login
    failures per second per endpoint."""
    is_login = layout.masks.is_login
    attack = (flow.rps - flow.legit_login) * is_login
    failures = flow.legit_login * LOGIN_FAILURE_RATIO + attack * ATTACK_FAILURE_RATIO
    base4 = np.where(is_login, failures / np.maximum(flow.rps, 1e-9), 0.02)
    error4 = bounded((base4 + effects.error4_add) * (1.0 - error5), 0.0, 1.0 - error5)
    return error4, failures


def compute_frame(layout: Layout, drivers: Drivers, effects: Effects) -> Frame:
    """The metrics that ``drivers`` and ``effects`` produce (pure, no randomness)."""
    masks = layout.masks
    of = masks.platform_of
    flow = _traffic(layout, drivers, effects)
    hosts = _hosts(layout, drivers, effects, flow.load)
    db = _database(layout, drivers, effects, flow.rps)
    crash = effects.crash_ratio[:, of]
    p50 = _median_latency(layout, drivers, effects, flow.load, db) * (1.0 + 4.0 * hosts.gc[:, of])
    p50 = p50 * (1.0 - crash) + 2.0 * crash
    sigma = 0.45 + 0.3 * np.minimum(flow.load, 1.0)[:, of] + 0.15 * (effects.latency_add_ms > 0.0)
    effects.add_errors(np.ones_like(layout.share), hosts.failing[:, of])
    error5 = effects.error5_ratio()
    error4, failures = _client_errors(layout, effects, flow, error5)
    member = layout.membership
    platform_error5 = ((flow.rps * error5) @ member) / np.maximum(flow.rps @ member, 1e-9)
    return Frame(
        rps=flow.rps,
        p50_ms=p50,
        p95_ms=p50 * np.exp(1.645 * sigma),
        p99_ms=p50 * np.exp(2.326 * sigma),
        sigma=sigma,
        error4=error4,
        error5=error5,
        auth_attempts=(flow.rps * masks.is_login) @ member,
        auth_failures=failures @ member,
        cpu=hosts.cpu,
        memory=hosts.memory,
        disk=hosts.disk,
        job_queue=np.maximum(0.0, 4.0 + drivers.host_noise[:, :, 0] * 0.5)
        + 2.0 * flow.traffic * effects.job_stuck_s,
        job_age_s=30.0 + effects.job_stuck_s,
        business_per_min=_business(layout, drivers, effects, flow.traffic, platform_error5),
        platform_error5=platform_error5,
        db_up=effects.db_up[:, 0],
        db_query_ms=db.query_ms[:, 0],
        db_connections=db.connections[:, 0],
        db_slow_per_s=(0.02 * db.load + effects.db_slow_per_s)[:, 0],
        cache_hit=db.hit[:, 0],
        redis_bytes=REDIS_BASE_BYTES * (1.0 + 0.02 * drivers.elapsed_s[:, 0] / WEEK_S)
        + (REDIS_MAX_BYTES - REDIS_BASE_BYTES) * effects.redis_memory_full[:, 0],
    )
