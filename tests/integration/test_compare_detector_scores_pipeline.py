"""The score-identity check (``pipelines/compare_detector_scores.py``) on a tiny corpus: it finds
this checkout identical to its own commit, and it notices a difference of 1e-9."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tests.integration.pipeline_loading import load_pipeline

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "pipelines/compare_detector_scores.py"


def write_corpus(root: Path) -> Path:
    """Two NAB-style files of 800 five-minute rows, one with a spike."""
    rng = np.random.default_rng(3)
    stamps = pd.date_range("2014-04-01", periods=800, freq="5min")
    for name, spike_at in [("cat/spiky.csv", 700), ("cat/plain.csv", None)]:
        values = 50.0 + 5.0 * np.sin(np.arange(stamps.size) / 30.0)
        values += rng.normal(0.0, 1.0, stamps.size)
        if spike_at is not None:
            values[spike_at] += 40.0
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values})
        frame.to_csv(path, index=False)
    return root


def test_the_checkout_agrees_with_its_own_commit(tmp_path: Path) -> None:
    data = write_corpus(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--data-dir", str(data), "--baseline", "HEAD"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "2 files;" in done.stdout and "agree: True" in done.stdout


def test_a_difference_of_one_billionth_is_reported(tmp_path: Path) -> None:
    pipeline = load_pipeline("compare_detector_scores")
    data = write_corpus(tmp_path / "data")
    reference = tmp_path / "reference.npz"
    pipeline.dump(data, reference)
    with np.load(reference) as stored:
        traces = {key: stored[key] for key in stored.files}
    traces["cat/spiky.csv|online"] = traces["cat/spiky.csv|online"] + 1e-9
    changed = tmp_path / "changed.npz"
    np.savez(changed, **traces)
    assert pipeline.compare(reference, reference, 0.0)
    assert not pipeline.compare(changed, reference, 0.0)
    assert pipeline.compare(changed, reference, 1e-8)
