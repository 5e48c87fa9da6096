"""How soon, and how falsely, the capacity check's short look names simulated memory leaks.

Usage:

    python pipelines/leak_look_replay.py [--seeds 1001,2001,1002] [--days 3] [--faults 25]
        [--window 2700] [--horizon 4]

Records the simulator alone (no agents, no repairs: every leak runs until it expires) for two
fault-free days and then ``--days`` with the chaos benchmark's leak-only schedule of each seed
(the same FaultSchedule.random as ``chaos_benchmark.py --kinds memory_leak``), and replays the
short look (forecast/capacity.py: traffic_share over the 6 h before, short_look over the last
``--window`` seconds, ``--horizon`` hours ahead) at every platform's memory series every 5
simulated minutes, as the Predictive agent's capacity check does. Per seed it prints the leaks
named while in effect (injection to expiry plus 2 minutes, the benchmark's grace), the median
and largest delay, and the false episodes: predictions on a platform with no leak in effect,
counted once per 30 minutes of a platform (each would be a restart of a healthy platform).
The replay answers what the look can see; the chaos benchmark measures the whole loop.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from selfheal_ml.forecast.capacity import short_look, traffic_share
from selfheal_ml.sim.schedule import FaultSchedule, run_schedule
from selfheal_ml.sim.simulator import PlatformSimulator

START = datetime(2026, 1, 5, tzinfo=UTC)
WARMUP_S = 2 * 86_400.0
STEP_S = 30.0
CHECK_EVERY = 10  # points: 5 minutes of 30 s points
SHARE_POINTS = 720  # 6 h of 30 s points
GRACE_S = 120.0
EPISODE_S = 1800.0
LIMIT = 85.0


@dataclass(frozen=True)
class Replay:
    """One seed's result: delays of the leaks named (None: missed), false episodes."""

    delays_s: list[float | None]
    false_episodes: int


def platform_of(key: str) -> str:
    """The platform label of a series key."""
    return key.split('platform="', 1)[1].split('"', 1)[0]


def replay(seed: int, days: float, faults: int, window_s: float, horizon_h: float) -> Replay:
    """Record the seed's leak-only run and replay the short look over it (module doc)."""
    simulator = PlatformSimulator(seed=seed, start=START - timedelta(seconds=WARMUP_S))
    warm = run_schedule(simulator, FaultSchedule(()), WARMUP_S)
    schedule = FaultSchedule.random(seed, days, faults, ("memory_leak",))
    run = run_schedule(simulator, schedule, days * 86_400.0)
    offsets = np.concatenate([warm.offsets_s, run.offsets_s])
    values = np.concatenate([warm.values, run.values])
    memory: dict[str, NDArray[np.float64]] = {}
    load: dict[str, NDArray[np.float64]] = {}
    for column, key in enumerate(run.keys):
        if key.startswith("host_memory_percent{"):
            memory[platform_of(key)] = values[:, column]
        elif key.startswith("http_requests_per_s{"):
            platform = platform_of(key)
            load[platform] = load.get(platform, np.zeros(offsets.size)) + values[:, column]
    windows = [
        (
            fault.platform,
            (fault.injected_at - simulator.start).total_seconds(),
            ((fault.resolved_at or fault.injected_at) - simulator.start).total_seconds() + GRACE_S,
        )
        for fault in run.faults
    ]
    points = int(window_s / STEP_S)
    fired: list[tuple[str, float]] = []
    for platform, series in memory.items():
        traffic = load[platform]
        for end in range(SHARE_POINTS, offsets.size, CHECK_EVERY):
            share = traffic_share(
                traffic[end - SHARE_POINTS : end + 1], series[end - SHARE_POINTS : end + 1]
            )
            begin = end - points + 1
            prediction = short_look(
                offsets[begin : end + 1] - offsets[begin],
                series[begin : end + 1],
                traffic[begin : end + 1],
                share or 0.0,
                simulator.start + timedelta(seconds=float(offsets[end])),
                LIMIT,
                horizon_s=horizon_h * 3600.0,
            )
            if prediction is not None:
                fired.append((platform, float(offsets[end])))
    delays: list[float | None] = []
    for platform, begin_s, end_s in windows:
        hits = [at for name, at in fired if name == platform and begin_s <= at <= end_s]
        delays.append(hits[0] - begin_s if hits else None)
    episodes, last_false = 0, dict[str, float]()
    for platform, at in sorted(fired, key=lambda item: item[1]):
        if any(name == platform and a <= at <= b for name, a, b in windows):
            continue
        if platform not in last_false or at - last_false[platform] > EPISODE_S:
            episodes += 1
        last_false[platform] = at
    return Replay(delays, episodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seeds", default="1001,2001,1002", help="comma-separated seeds")
    parser.add_argument("--days", type=float, default=3.0, help="simulated days after warm-up")
    parser.add_argument("--faults", type=int, default=25, help="leaks injected per seed")
    parser.add_argument("--window", type=float, default=2700.0, help="short look window, s")
    parser.add_argument("--horizon", type=float, default=4.0, help="short look horizon, h")
    args = parser.parse_args(argv)
    print(f"window {args.window:g} s, horizon {args.horizon:g} h")
    for seed in (int(text) for text in args.seeds.split(",")):
        result = replay(seed, args.days, args.faults, args.window, args.horizon)
        named = [delay for delay in result.delays_s if delay is not None]
        median = f"{statistics.median(named):.0f}" if named else "-"
        largest = f"{max(named):.0f}" if named else "-"
        print(
            f"seed {seed}: named {len(named)}/{len(result.delays_s)}, delay median {median} s,"
            f" max {largest} s, false episodes {result.false_episodes}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
