"""Throughput of the default detector against river's ``MinMaxScaler | HalfSpaceTrees``.

Run with ``.venv/bin/pytest tests/benchmarks/test_detector_speed.py -m benchmark -s``. All
paths see the same 100k points (a noisy daily cycle at one point a minute, with spikes) in one
process; each prints points/s of CPU time (per core, unaffected by other load on the
machine), and the ratio to river.

- online detector: ``score_one`` then ``learn_one`` per point (the detector contract);
- online batch: ``score_learn_many`` over the series in batches of ``BATCH`` points, still
  strictly online (every point scored before it is learned, the same scores as the loop
  above): the path of a series whose points are all learned. Issue 15's 50 000 points/s is
  asserted on it; the per-point figure is printed beside it;
- online pipeline: ``SeriesScorer.process`` (detector + gate + alert policy + explanation);
- replay: ``DetectorBank.replay`` of the whole history (the re-warm / backfill path).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pytest

from selfheal_ml.anomaly import DetectorBank, SeriesScorer, default_detector, river_baseline
from selfheal_ml.anomaly.base import Detector

N_POINTS = 100_000
BATCH = (
    1_000  # points per score_learn_many call (a backfill page; the result does not depend on it)
)
pytestmark = pytest.mark.benchmark


def workload() -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(0)
    times = 60.0 * np.arange(N_POINTS)
    values = 100.0 + 20.0 * np.sin(2 * np.pi * times / 86_400.0) + rng.normal(0.0, 3.0, N_POINTS)
    values[rng.choice(N_POINTS, 50, replace=False)] += 80.0
    return times.tolist(), values.tolist()


def online_rate(make: Callable[[], Detector], times: list[float], values: list[float]) -> float:
    detector = make()
    started = time.process_time()
    for ts_s, value in zip(times, values, strict=True):
        point = {"value": value, "timestamp_s": ts_s}
        detector.score_one(point)
        detector.learn_one(point)
    return len(values) / (time.process_time() - started)


def batch_rate(make: Callable[[], Detector], times: list[float], values: list[float]) -> float:
    detector = make()
    started = time.process_time()
    for start in range(0, len(values), BATCH):
        stop = start + BATCH
        detector.score_learn_many(values[start:stop], times[start:stop])
    return len(values) / (time.process_time() - started)


def test_default_detector_throughput_against_river() -> None:
    times, values = workload()
    river = online_rate(river_baseline, times, values)
    default = online_rate(default_detector, times, values)
    batch = batch_rate(default_detector, times, values)

    scorer = SeriesScorer(default_detector())
    started = time.process_time()
    for ts_s, value in zip(times, values, strict=True):
        scorer.process(ts_s, value)
    pipeline = N_POINTS / (time.process_time() - started)

    bank = DetectorBank()
    started = time.process_time()
    bank.replay("bench", np.array(values), np.array(times))
    replay = N_POINTS / (time.process_time() - started)

    print(f"\nriver MinMaxScaler|HalfSpaceTrees online: {river:>12,.0f} points/s")
    print(f"default detector online:                 {default:>12,.0f} points/s")
    print(f"default detector online batch:           {batch:>12,.0f} points/s")
    print(f"default pipeline online (SeriesScorer):  {pipeline:>12,.0f} points/s")
    print(f"default replay (DetectorBank.replay):    {replay:>12,.0f} points/s")
    print(
        f"ratios to river: detector {default / river:.2f}x, batch {batch / river:.2f}x,"
        f" pipeline {pipeline / river:.2f}x"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    assert batch >= 50_000
    assert replay >= 500_000
