"""How often the capacity check's long look predicts a breach from healthy noise, by how long
a stretch it fits: the reason the long look needs half its window (MIN_LOOK_SHARE).

Usage:

    python pipelines/short_regime_trends.py [--hours 1,2,3,4,6] [--trials 600] [--seed 1]

Each trial draws healthy memory as the simulator makes it (an Ornstein-Uhlenbeck noise of sd
``--sd`` points and time constant ``--tau`` seconds around ``--level``, sampled every 30 s),
takes the 5-minute means of ``hours`` of it, and asks
:func:`~selfheal_ml.forecast.capacity.predict_breach` (the long look's test: a significant
trend, HAC errors, extrapolated a day) whether it crosses ``--limit``. Prints, per length,
the share of trials that predict a breach: every one is a false alarm. After a crash or a
restart the long look fits only the stretch since then (``since_last_reset``), so a short
stretch is what it sees for the hours after each reset.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from selfheal_ml.forecast.capacity import predict_breach
from selfheal_ml.sim.drivers import HOST_NOISE_SD, HOST_NOISE_TAU_S, OrnsteinUhlenbeck

STEP_S = 30.0


def healthy_noise(rng: np.random.Generator, steps: int, sd: float, tau_s: float) -> np.ndarray:
    """A stationary path of ``steps`` points ``STEP_S`` apart: the simulator's own noise
    (:class:`~selfheal_ml.sim.drivers.OrnsteinUhlenbeck`)."""
    process = OrnsteinUhlenbeck(np.array([sd]), tau_s=tau_s)
    process.start(rng)
    path: np.ndarray = process.steps(rng, np.full(steps, STEP_S))[:, 0]
    return path


def false_prediction_share(
    hours: float, trials: int, rng: np.random.Generator, level: float, limit: float,
    sd: float, tau_s: float,
) -> float:  # fmt: skip
    """The share of ``trials`` healthy stretches of ``hours`` that predict a breach."""
    steps = int(hours * 3600.0 / STEP_S)
    index = pd.date_range("2026-01-01", periods=steps, freq=f"{int(STEP_S)}s", tz="UTC")
    predicted = 0
    for _ in range(trials):
        values = pd.Series(level + healthy_noise(rng, steps, sd, tau_s), index=index)
        if predict_breach(values.resample("5min").mean(), limit, "memory") is not None:
            predicted += 1
    return predicted / trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hours", default="1,2,3,4,6", help="comma-separated stretch lengths")
    parser.add_argument("--trials", type=int, default=600, help="stretches per length")
    parser.add_argument("--seed", type=int, default=1, help="the noise draws' seed")
    parser.add_argument("--level", type=float, default=57.0, help="healthy memory, %%")
    parser.add_argument("--limit", type=float, default=85.0, help="the memory limit, %%")
    parser.add_argument("--sd", type=float, default=HOST_NOISE_SD[1], help="the noise's sd, points")
    parser.add_argument("--tau", type=float, default=HOST_NOISE_TAU_S, help="the noise's memory, s")
    args = parser.parse_args(argv)
    if args.trials <= 0:
        parser.error(f"--trials: expected > 0, got {args.trials}")
    rng = np.random.default_rng(args.seed)
    for hours in (float(text) for text in args.hours.split(",")):
        share = false_prediction_share(
            hours, args.trials, rng, args.level, args.limit, args.sd, args.tau
        )
        print(f"{hours:g} h of 5-minute means: {share:.1%} of {args.trials} predict a breach")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
