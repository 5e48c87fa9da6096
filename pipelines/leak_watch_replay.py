"""How soon, and how falsely, the Predictive agent's leak watch names simulated memory leaks.

Usage:

    python pipelines/leak_watch_replay.py [--seeds 1001,1002,1003] [--days 3] [--faults 25]
        [--kinds memory_leak] [--z 5.0,5.5,6.0] [--metric memory|disk] [--clip SDS]
        [--min-steps N] [--repair-after S] [--pure-noise]

``--metric disk`` asks the same of the disk watch (``agents/leak_watch.py`` ``DISK``: each
platform's disk alone, without its traffic) against filling disks. ``--clip`` is the
innovations' upper clip in noise sds (``forecast/ramp.py``); ``--min-steps`` the shortest
ramp in minutes (0: the healthy model's noise memory). Both default to the watch's own
(memory: 3 sds and the noise memory; disk: 6 sds and 3 minutes).
``--repair-after S`` ends every fault of another kind ``S`` simulated seconds after its
injection with its catalogue's first fix, as the closed loop would (a crash restarted, a surge
scaled out for the simulator's hour): what those repairs do to memory is then in the replay.
``--pure-noise`` replays the watch on the simulator's memory noise alone (its
:class:`~selfheal_ml.sim.drivers.OrnsteinUhlenbeck` at 30 s steps, no traffic, campaigns or
faults; the seed seeds the draws): what the scan over ramp starts costs by itself, against
the false episodes of the whole simulation.

Records the simulator alone (no agents, no repairs: every fault runs until it expires) for two
fault-free days and then ``--days`` with the chaos benchmark's schedule of each seed (the same
FaultSchedule.random as ``chaos_benchmark.py``, ``--kinds all`` for the whole catalogue), and
replays the leak watch (``agents/leak_watch.py``) on minute means of every platform's memory:
the healthy model (forecast/ramp.py ``fit_ramp_baseline``) learnt from the last 24 h at every
full hour, the ramp test over the last hour every minute, a prediction when the z-score
reaches each ``--z`` and the ramp is ongoing. A prediction is dated when the last minute it
used is complete (its last sample: half past the minute), the earliest the watch could make
it; dated at the minute's start, as it was until 2026-12-07 16:47 UTC, its delays read 30 s
early. Per seed and threshold it prints the leaks named while in effect (injection to expiry
plus 2 minutes), the median and largest delay, and the false episodes: predictions on a
platform with no leak in effect, counted once per 30 minutes of a platform (each would be a
restart of a healthy platform), each listed with its platform and simulated start.
``--faults 0`` replays fault-free days. The replay answers what the watch can see; the chaos
benchmark measures the whole loop (its store lags the simulator by up to an hour, and a
repair ends a leak).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from selfheal_ml.agents.leak_watch import DISK, MEMORY, Resource
from selfheal_ml.forecast.ramp import (
    RampBaseline,
    fit_ramp_baseline,
    ramp_evidence,
    rate_if_within,
)
from selfheal_ml.sim.catalogue import FaultKind
from selfheal_ml.sim.drivers import HOST_NOISE_SD, HOST_NOISE_TAU_S, OrnsteinUhlenbeck
from selfheal_ml.sim.schedule import FaultSchedule, SimulationRun, run_schedule
from selfheal_ml.sim.simulator import PlatformSimulator

START = datetime(2026, 1, 5, tzinfo=UTC)
WARMUP_S = 2 * 86_400.0
BASELINE_MINUTES = 1440
WINDOW_MINUTES = 60
GRACE_S = 120.0
EPISODE_S = 1800.0
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Replay:
    """One seed's result per threshold: delays of the leaks named (None: missed), false
    episodes."""

    delays_s: dict[float, list[float | None]]
    false_episodes: dict[float, int]
    episode_starts: dict[float, list[tuple[str, float]]]  # platform, minute from the start


def platform_of(key: str) -> str:
    """The platform label of a series key."""
    return key.split('platform="', 1)[1].split('"', 1)[0]


#: The resource each watch judges, and the fault it names.
WATCHED: dict[str, tuple[Resource, FaultKind]] = {
    "memory": (MEMORY, FaultKind.MEMORY_LEAK),
    "disk": (DISK, FaultKind.DISK_FILLING),
}


def repair_when_due(simulator: PlatformSimulator, after_s: float, spared: FaultKind) -> None:
    """End each active fault (not of the ``spared`` kind) injected at least ``after_s`` ago
    with its catalogue's first fix, on the platform it started on (or its first platform)."""
    for fault in simulator.faults(active_only=True):
        if fault.kind is spared or (simulator.now() - fault.injected_at).total_seconds() < after_s:
            continue
        platform = fault.platform or (fault.platforms[0] if fault.platforms else None)
        if platform is not None and fault.fixing_actions:
            simulator.apply_action(platform, fault.fixing_actions[0].value)


def record_run(
    simulator: PlatformSimulator,
    schedule: FaultSchedule,
    duration_s: float,
    repair_after_s: float | None,
    spared: FaultKind,
) -> SimulationRun:
    """The schedule's run; with ``repair_after_s``, faults are repaired as they come due
    (checked every simulated minute)."""
    if repair_after_s is None:
        return run_schedule(simulator, schedule, duration_s)
    return run_schedule(
        simulator, schedule, duration_s, chunk_s=60.0,
        on_chunk=lambda sim: repair_when_due(sim, repair_after_s, spared),
    )  # fmt: skip


def minute_series(
    seed: int,
    days: float,
    faults: int,
    kinds: tuple[str, ...],
    metric: str = "memory",
    repair_after_s: float | None = None,
) -> tuple[
    dict[str, FloatArray], dict[str, FloatArray], list[tuple[str, float, float]], FloatArray
]:
    """Minute means of each platform's watched series (``metric``: memory or disk) and total
    request rate, each ramp fault's platform and minutes in effect (from the start of the
    warm-up), and when each minute's mean is complete: the time of its last sample, in the
    same minutes (the simulator samples every 30 s, at the minute and half past it). Other
    faults are repaired ``repair_after_s`` after injection when given."""
    resource, ramp_kind = WATCHED[metric]
    prefix = f"{resource.metric}{{"
    simulator = PlatformSimulator(seed=seed, start=START - timedelta(seconds=WARMUP_S))
    warm = run_schedule(simulator, FaultSchedule(()), WARMUP_S)
    schedule = FaultSchedule.random(seed, days, faults, kinds)
    run = record_run(simulator, schedule, days * 86_400.0, repair_after_s, ramp_kind)
    offsets = np.concatenate([warm.offsets_s, run.offsets_s])
    values = np.concatenate([warm.values, run.values])
    minute = (offsets // 60.0).astype(int) - int(offsets[0] // 60.0)
    counts = np.bincount(minute)
    complete = np.full(counts.size, -np.inf)
    np.maximum.at(complete, minute, offsets / 60.0)
    memory: dict[str, FloatArray] = {}
    load: dict[str, FloatArray] = {}
    for column, key in enumerate(run.keys):
        if key.startswith((prefix, "http_requests_per_s{")):
            means = np.bincount(minute, weights=values[:, column]) / np.maximum(counts, 1)
            if key.startswith(prefix):
                memory[platform_of(key)] = means
            else:
                platform = platform_of(key)
                load[platform] = load.get(platform, np.zeros(means.size)) + means
    leaks = [
        (
            str(fault.platform),
            (fault.injected_at - simulator.start).total_seconds() / 60.0,
            ((fault.resolved_at or fault.injected_at) - simulator.start).total_seconds() / 60.0,
        )
        for fault in run.faults
        if fault.kind is ramp_kind
    ]
    return memory, load, leaks, complete


def within_horizon(
    resource: Resource, values: FloatArray, load: FloatArray, baseline: RampBaseline, steps: int
) -> bool:
    """Whether the ramp reaches the resource's limit within its horizon, as the watch asks
    (always, for a resource without one)."""
    if resource.horizon_s is None:
        return True
    residual = values - baseline.expected(load)
    horizon_minutes = resource.horizon_s / 60.0
    return (
        rate_if_within(residual, steps, resource.limit, float(values[-1]), horizon_minutes)
        is not None
    )


def pure_noise_minutes(seed: int, days: float, platforms: int) -> dict[str, FloatArray]:
    """Minute means of the simulator's memory noise alone (sampled every 30 s, around 50 %),
    per platform ``p0``, ``p1``, ...: the warm-up and ``days``."""
    rng = np.random.default_rng(seed)
    minutes = int((WARMUP_S + days * 86_400.0) // 60.0)
    process = OrnsteinUhlenbeck(np.full(platforms, HOST_NOISE_SD[1]), tau_s=HOST_NOISE_TAU_S)
    process.start(rng)
    samples = process.steps(rng, np.full(2 * minutes, 30.0))
    means = 50.0 + samples.reshape(minutes, 2, platforms).mean(axis=1)
    return {f"p{index}": means[:, index].copy() for index in range(platforms)}


def replay(
    seed: int,
    days: float,
    faults: int,
    kinds: tuple[str, ...],
    thresholds: list[float],
    metric: str = "memory",
    clip: float | None = None,
    min_steps: int | None = None,
    repair_after_s: float | None = None,
    confirm: int = 0,
    pure_noise: bool = False,
) -> Replay:
    """Record the seed's run and replay the watch over it (module doc); a prediction needs the
    evidence at each threshold in ``confirm + 1`` consecutive minutes. ``clip`` and
    ``min_steps`` default to the watch's (``None``; ``min_steps`` 0: the healthy model's noise
    memory); a resource that does not follow the traffic is judged without it. With
    ``pure_noise``, the noise alone on five platforms instead of the run."""
    resource = WATCHED[metric][0]
    clip = resource.clip if clip is None else clip
    min_steps = resource.min_steps if min_steps is None else (min_steps or None)
    if pure_noise:
        memory = pure_noise_minutes(seed, days, 5)
        load = {name: np.zeros(series.size) for name, series in memory.items()}
        leaks: list[tuple[str, float, float]] = []
        complete = np.arange(1.0, next(iter(memory.values())).size + 1.0)
    else:
        memory, load, leaks, complete = minute_series(
            seed, days, faults, kinds, metric, repair_after_s
        )
    fired: dict[float, list[tuple[str, float]]] = {z: [] for z in thresholds}
    first = int(WARMUP_S // 60)
    for platform, series in memory.items():
        traffic = load[platform] if resource.follows_traffic else np.zeros(series.size)
        baseline = None
        streak = dict.fromkeys(thresholds, 0)
        for end in range(first, series.size):
            if baseline is None or end % 60 == 0:
                start = end - BASELINE_MINUTES
                baseline = fit_ramp_baseline(series[start:end], traffic[start:end]) or baseline
            if baseline is None:
                continue
            begin = end - WINDOW_MINUTES
            evidence = ramp_evidence(
                series[begin : end + 1], traffic[begin : end + 1], baseline, clip, min_steps
            )
            held = (
                evidence is not None
                and evidence.ongoing(baseline.noise_sd)
                and within_horizon(resource, series[begin : end + 1], traffic[begin : end + 1],
                                   baseline, evidence.steps)
            )  # fmt: skip
            for z in thresholds:
                streak[z] = (
                    streak[z] + 1 if held and evidence is not None and evidence.z >= z else 0
                )
                if streak[z] > confirm:
                    fired[z].append((platform, float(complete[end])))
    grace = GRACE_S / 60.0
    delays = {
        z: [
            next(((at - a) * 60.0 for name, at in hits if name == p and a <= at <= b + grace), None)
            for p, a, b in leaks
        ]
        for z, hits in fired.items()
    }
    starts: dict[float, list[tuple[str, float]]] = {}
    for z, hits in fired.items():
        starts[z], last_false = [], dict[str, float]()
        for platform, at in hits:  # in time order per platform
            if any(name == platform and a <= at <= b + grace for name, a, b in leaks):
                continue
            if platform not in last_false or (at - last_false[platform]) * 60.0 > EPISODE_S:
                starts[z].append((platform, at))
            last_false[platform] = at
    return Replay(delays, {z: len(found) for z, found in starts.items()}, starts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seeds", default="1001,1002,1003", help="comma-separated seeds")
    parser.add_argument("--days", type=float, default=3.0, help="simulated days after warm-up")
    parser.add_argument("--faults", type=int, default=25, help="faults injected per seed")
    parser.add_argument("--kinds", default=None, help="fault kinds, or 'all' (default: the ramp's)")
    parser.add_argument("--metric", choices=sorted(WATCHED), default="memory", help="watched")
    parser.add_argument(
        "--clip",
        type=float,
        default=None,
        help="innovations clipped at, sds (default: the watch's)",
    )
    parser.add_argument("--z", default="5.0,5.5,6.0", help="comma-separated thresholds")
    parser.add_argument(
        "--min-steps",
        type=int,
        default=None,
        help="the shortest ramp in minutes (default: the watch's; 0: the noise's memory)",
    )
    parser.add_argument(
        "--repair-after",
        type=float,
        default=None,
        help="repair other faults this many simulated seconds after injection (default: never)",
    )
    parser.add_argument(
        "--confirm",
        type=int,
        default=0,
        help="minutes the evidence must hold after it first meets a threshold (default 0)",
    )
    parser.add_argument(
        "--pure-noise",
        action="store_true",
        help="replay on the simulator's memory noise alone (no traffic, campaigns or faults)",
    )
    args = parser.parse_args(argv)
    kinds_text = args.kinds or WATCHED[args.metric][1].value
    kinds = tuple(kind.value for kind in FaultKind) if kinds_text == "all" else tuple(
        kinds_text.split(",")
    )  # fmt: skip
    thresholds = [float(text) for text in args.z.split(",")]
    for seed in (int(text) for text in args.seeds.split(",")):
        result = replay(
            seed, args.days, args.faults, kinds, thresholds, args.metric, args.clip,
            args.min_steps, args.repair_after, args.confirm, args.pure_noise,
        )  # fmt: skip
        for z in thresholds:
            named = [delay for delay in result.delays_s[z] if delay is not None]
            median = f"{statistics.median(named):.0f}" if named else "-"
            largest = f"{max(named):.0f}" if named else "-"
            print(
                f"seed {seed}, z {z:g}: named {len(named)}/{len(result.delays_s[z])},"
                f" delay median {median} s, max {largest} s,"
                f" false episodes {result.false_episodes[z]}"
            )
            for platform, minute in result.episode_starts[z]:
                at = START - timedelta(seconds=WARMUP_S) + timedelta(minutes=minute)
                print(f"  false episode: {platform} from {at:%Y-%m-%d %H:%M} (simulated UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
