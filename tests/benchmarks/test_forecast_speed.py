"""Wall time of the default forecaster vs seasonal naive vs plain statsmodels Holt-Winters.

All three forecast the same M4 Hourly series (48 steps) in the same run, on ``WORKERS``
processes; the printout gives wall and CPU time, the ratios to seasonal naive and Holt-Winters,
and OWA for context. Opt-in: ``.venv/bin/pytest tests/benchmarks/test_forecast_speed.py -m
benchmark -s -p no:cacheprovider``. The budget is the issue's: the default forecaster under
60 s for all 414 M4 Hourly series on 2 cores, checked on CPU time (robust to other load on the
machine) extrapolated from the local 262 series.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.evaluation.m4 import evaluate_m4
from selfheal_ml.forecast import iter_forecasts, stack_forecasts

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "m4_hourly"
WORKERS = 2
M4_HOURLY_SERIES = 414
MODELS = ("ensemble", "seasonal_naive", "holt_winters_plain")


def read(path: Path, limit: int | None) -> list[np.ndarray]:
    rows = pd.read_csv(path, index_col=0, nrows=limit).to_numpy(dtype=np.float64)
    return [row[~np.isnan(row)] for row in rows]


@pytest.mark.benchmark
def test_default_forecaster_speed_against_baselines() -> None:
    if not (DATA / "Hourly-train-dev.csv").exists():
        pytest.skip(f"M4 Hourly data not found under {DATA}")
    limit = int(os.environ.get("FORECAST_BENCH_SERIES", "0")) or None
    histories = read(DATA / "Hourly-train-dev.csv", limit)
    actuals = np.vstack(read(DATA / "Hourly-test-dev.csv", limit))[:, :48]
    wall_s, cpu_s = {}, {}
    for model in MODELS:
        started = time.perf_counter()
        batch = stack_forecasts(list(iter_forecasts(histories, 48, model, workers=WORKERS)))
        wall_s[model], cpu_s[model] = time.perf_counter() - started, batch.cpu_s
        owa = evaluate_m4(histories, actuals, batch.mean).owa
        print(
            f"{model:>20}: {len(histories)} series, wall {wall_s[model]:7.2f} s, "
            f"cpu {cpu_s[model]:7.2f} s, OWA {owa:.3f}"
        )
    default = wall_s["ensemble"]
    print(f"wall ratio default / seasonal naive: {default / wall_s['seasonal_naive']:.1f}x")
    print(f"wall ratio default / Holt-Winters:   {default / wall_s['holt_winters_plain']:.2f}x")
    print(f"load average during the run: {os.getloadavg()}")
    per_core_414_s = cpu_s["ensemble"] / WORKERS * M4_HOURLY_SERIES / len(histories)
    print(f"default forecaster, 414 series on 2 idle cores (from CPU time): {per_core_414_s:.1f} s")
    assert per_core_414_s < 60.0
