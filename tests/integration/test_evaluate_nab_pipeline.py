"""The NAB pipeline end to end on a tiny hand-made corpus: layout, rows, scores, MLflow runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.integration.pipeline_loading import load_pipeline

REPO = Path(__file__).resolve().parents[2]


def write_corpus(root: Path) -> tuple[Path, Path, dict[str, int]]:
    """Two categories, three files of 1500 five-minute rows; two files carry a spike."""
    rng = np.random.default_rng(0)
    data, windows, rows = root / "data", {}, {}
    stamps = pd.date_range("2014-04-01", periods=1500, freq="5min")
    for key, spike_at in [("catA/one.csv", 1200), ("catA/two.csv", None), ("catB/three.csv", 1300)]:
        values = 20.0 + rng.normal(0.0, 1.0, stamps.size)
        window = []
        if spike_at is not None:
            values[spike_at] += 30.0
            window = [[str(stamps[spike_at - 20]), str(stamps[spike_at + 20])]]
        path = data / key
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values}).to_csv(
            path, index=False
        )
        windows[key], rows[key] = window, stamps.size
    windows_path = root / "combined_windows.json"
    windows_path.write_text(json.dumps(windows))
    return data, windows_path, rows


def test_pipeline_writes_nab_results_and_logs_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = load_pipeline("evaluate_nab")
    data, windows, rows = write_corpus(tmp_path)
    out, uri = tmp_path / "out", f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    argv = ["--data-dir", str(data), "--windows", str(windows), "--out", str(out)]
    argv += ["--detector", "default", "--detector", "river-hst", "--tracking-uri", uri]
    assert pipeline.main([*argv, "--processes", "2", "--cross-validate"]) == 0

    for detector in ("default", "river-hst"):
        for key, n_rows in rows.items():
            category, name = key.split("/")
            written = pd.read_csv(out / detector / category / f"{detector}_{name}")
            assert list(written.columns) == ["timestamp", "value", "anomaly_score"]
            assert len(written) == n_rows
            assert written["anomaly_score"].between(0.0, 1.0).all()
    spiked = pd.read_csv(out / "default" / "catA" / "default_one.csv")
    assert spiked["anomaly_score"].idxmax() == 1200

    printed = capsys.readouterr().out
    # each spike sits 20 rows into its 41-row window: S(-(40 - 20 + 1) / 41) / S(-1) = 0.8692,
    # twice: raw 1.738, null -2, perfect 2 -> 100 * 3.738 / 4 = 93.4 (no false positive)
    assert "default: nab_standard=93.4" in printed
    assert "nab_standard_at_default=" in printed and "river-hst: nab_standard=" in printed
    assert "cross-validated choice, standard:" in printed
    assert "nested cross-validated estimate, standard:" in printed
    assert "selected by held-out score, standard:" in printed

    from selfheal_ml.tracking import Tracker

    client = Tracker(uri).client()
    experiment = client.get_experiment_by_name("anomaly-nab")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert {run.info.run_name for run in runs} == {"default", "river-hst", "selection"}
    default_run = next(run for run in runs if run.info.run_name == "default")
    assert default_run.data.params["detector"] == "default"
    assert default_run.data.tags["split"] == "in-sample"
    assert "nab_reward_low_FP_rate" in default_run.data.metrics
    assert "nab_standard_held_out" in default_run.data.metrics
    selection = next(run for run in runs if run.info.run_name == "selection")
    assert selection.data.tags["split"] == "held-out"
    assert "nab_standard_nested" in selection.data.metrics
