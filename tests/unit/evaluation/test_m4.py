"""M4 measures on hand-made cases, Naive2 against a literal transcription of the M4 R code,
and the dataset-level figures against the published M4 Hourly benchmarks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.errors import ValidationError
from selfheal_ml.evaluation.m4 import (
    coverage,
    evaluate_m4,
    mase,
    naive2,
    seasonal_indices,
    seasonality_test,
    smape,
)

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "m4_hourly"


def test_smape_by_hand() -> None:
    assert smape([100.0], [100.0]) == 0.0
    assert smape([100.0], [0.0]) == 200.0
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert smape([100.0, 50.0], [150.0, 50.0]) == pytest.approx(200 * (50 / 250) / 2)


def test_mase_by_hand() -> None:
    history = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]
    # seasonal differences at lag 2: 1, 1, 1, 1 -> scale 1
    assert mase(history, [6.0, 7.0], [5.0, 9.0], period=2) == pytest.approx(1.5)
    with pytest.raises(ValidationError, match="history"):
        mase([1.0, 1.0, 1.0, 1.0], [1.0], [2.0], period=2)


def test_coverage_by_hand() -> None:
    assert coverage([1.0, 5.0], [0.0, 0.0], [2.0, 2.0]) == 0.5


def r_acf(values: np.ndarray, max_lag: int) -> list[float]:
    """R's ``acf``: autocovariance over n (not n - k), divided by the variance."""
    n, mean = len(values), float(np.mean(values))
    denominator = sum((value - mean) ** 2 for value in values)
    return [
        sum((values[t] - mean) * (values[t - lag] - mean) for t in range(lag, n)) / denominator
        for lag in range(1, max_lag + 1)
    ]


def r_naive2(values: np.ndarray, horizon: int, ppy: int) -> np.ndarray:
    """The M4 benchmark code (R): SeasonalityTest, decompose(type="multiplicative"), naive."""
    seasonal = False
    if len(values) >= 3 * ppy:
        xacf = r_acf(values, ppy)
        clim = 1.645 / math.sqrt(len(values)) * math.sqrt(1 + 2 * sum(a * a for a in xacf[:-1]))
        seasonal = abs(xacf[ppy - 1]) > clim
    if not seasonal:
        return np.full(horizon, values[-1])
    filt = [0.5] + [1.0] * (ppy - 1) + [0.5]
    trend = [math.nan] * len(values)
    for t in range(ppy // 2, len(values) - ppy // 2):
        trend[t] = sum(w * values[t - ppy // 2 + j] for j, w in enumerate(filt)) / ppy
    ratio = [v / m for v, m in zip(values, trend, strict=True)]
    figure = [np.nanmean(ratio[i::ppy]) for i in range(ppy)]
    figure = [f / np.mean(figure) for f in figure]
    seasonal_series = [figure[t % ppy] for t in range(len(values))]
    last_adjusted = values[-1] / seasonal_series[-1]
    season_out = seasonal_series[-ppy:]
    return np.array([last_adjusted * season_out[h % ppy] for h in range(horizon)])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_naive2_matches_the_m4_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    hours = np.arange(24 * 9 + int(rng.integers(0, 24)))
    strength = [0.0, 0.05, 0.3, 0.6][seed]
    values = 100 * (1 + strength * np.sin(2 * np.pi * hours / 24)) + rng.normal(0, 5, hours.size)
    np.testing.assert_allclose(naive2(values, 30), r_naive2(values, 30, 24), rtol=1e-10)


def test_seasonality_test_says_no_for_noise_and_short_series() -> None:
    rng = np.random.default_rng(5)
    assert not seasonality_test(rng.normal(10, 1, 500))
    assert not seasonality_test(10 + np.sin(np.arange(60) * 2 * np.pi / 24))
    np.testing.assert_array_equal(seasonal_indices(rng.normal(10, 1, 500)), np.ones(24))


def test_owa_of_naive2_is_one_and_of_a_perfect_forecast_is_zero() -> None:
    rng = np.random.default_rng(9)
    histories = [50 + 10 * np.sin(np.arange(240) * 2 * np.pi / 24) + rng.normal(0, 1, 240)]
    actuals = np.array([50 + 10 * np.sin(np.arange(240, 288) * 2 * np.pi / 24)])
    benchmark = evaluate_m4(histories, actuals, naive2(histories[0], 48)[None, :])
    assert benchmark.owa == pytest.approx(1.0)
    perfect = evaluate_m4(histories, actuals, actuals, {80: (actuals, actuals)}, horizon=24)
    assert perfect.owa == 0.0 and perfect.coverage == {80: 1.0}
    assert set(perfect.as_metrics()) == {"smape_h24", "mase_h24", "owa_h24", "coverage80_h24"}


def read(path: Path) -> list[np.ndarray]:
    rows = pd.read_csv(path, index_col=0).to_numpy(dtype=np.float64)
    return [row[~np.isnan(row)] for row in rows]


def test_naive2_and_seasonal_naive_near_the_published_m4_hourly_figures() -> None:
    """Our 262 of 414 series: within 5 % of Naive2 sMAPE 18.383 / MASE 2.395, OWA(sNaive) 0.627."""
    if not (DATA / "Hourly-train-dev.csv").exists():
        pytest.skip(f"M4 Hourly data not found under {DATA}")
    histories = read(DATA / "Hourly-train-dev.csv")
    actuals = np.vstack(read(DATA / "Hourly-test-dev.csv"))
    seasonal_naive = np.vstack([np.tile(history[-24:], 2) for history in histories])
    report = evaluate_m4(histories, actuals, seasonal_naive)
    assert report.naive2_smape == pytest.approx(18.383, rel=0.05)
    assert report.naive2_mase == pytest.approx(2.395, rel=0.05)
    assert report.owa == pytest.approx(0.627, abs=0.02)
