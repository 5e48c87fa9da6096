"""pipelines/backtest_m4.py end to end on a few M4 Hourly series: files, report, MLflow runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfheal_ml.tracking import Tracker
from tests.integration.pipeline_loading import load_pipeline

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "datasets" / "m4_hourly"


def test_pipeline_writes_m4_files_prints_measures_and_logs_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (DATA / "Hourly-train-dev.csv").exists():
        pytest.skip(f"M4 Hourly data not found under {DATA}")
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    out = tmp_path / "forecasts.csv"
    arguments = [
        "--train",
        str(DATA / "Hourly-train-dev.csv"),
        "--test",
        str(DATA / "Hourly-test-dev.csv"),
    ]
    arguments += ["--horizon", "48", "--out", str(out), "--limit", "4", "--workers", "1"]
    arguments += ["--model", "seasonal_naive", "--model", "profile_day", "--tracking-uri", uri]
    assert load_pipeline("backtest_m4").main(arguments) == 0

    naive = pd.read_csv(tmp_path / "forecasts-seasonal_naive.csv", index_col="id")
    assert list(naive.columns) == [f"F{step}" for step in range(1, 49)] and len(naive) == 4
    train = pd.read_csv(DATA / "Hourly-train-dev.csv", index_col=0, nrows=4)
    first = train.iloc[0].dropna().to_numpy()
    np.testing.assert_allclose(naive.iloc[0].to_numpy(), np.tile(first[-24:], 2))
    low = pd.read_csv(tmp_path / "forecasts-seasonal_naive-lo-80.csv", index_col="id")
    high = pd.read_csv(tmp_path / "forecasts-seasonal_naive-hi-95.csv", index_col="id")
    assert (low.to_numpy() <= naive.to_numpy()).all() and (
        naive.to_numpy() <= high.to_numpy()
    ).all()

    printed = capsys.readouterr().out
    assert printed.count("h=48") == 2 and printed.count("h=24") == 2 and "OWA" in printed

    client = Tracker(uri).client()
    experiment = client.get_experiment_by_name("forecast-m4-hourly")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.info.run_name for run in runs) == ["profile_day", "seasonal_naive"]
    metrics = runs[0].data.metrics
    assert {"owa_h48", "smape_h24", "mase_h48", "coverage80_h48", "wall_s"} <= set(metrics)


def test_holdout_scores_the_end_of_the_training_series_without_the_test_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (DATA / "Hourly-train-dev.csv").exists():
        pytest.skip(f"M4 Hourly data not found under {DATA}")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "holdout.csv"
    arguments = ["--train", str(DATA / "Hourly-train-dev.csv"), "--holdout", "--limit", "2"]
    arguments += ["--out", str(out), "--model", "seasonal_naive", "--tracking-uri", uri]
    assert load_pipeline("backtest_m4").main(arguments) == 0
    train = pd.read_csv(DATA / "Hourly-train-dev.csv", index_col=0, nrows=1).iloc[0].dropna()
    first = train.to_numpy()[:-48]
    forecast = pd.read_csv(out, index_col="id").iloc[0].to_numpy()
    np.testing.assert_allclose(forecast, np.tile(first[-24:], 2))
    assert "OWA" in capsys.readouterr().out
    runs = Tracker(uri).client().search_runs([Tracker(uri).experiment_id("forecast-m4-hourly")])
    assert [run.data.params["split"] for run in runs] == ["holdout"]


def test_unknown_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        load_pipeline("backtest_m4").main(
            ["--train", "x", "--test", "y", "--out", "z", "--model", "nope"]
        )
