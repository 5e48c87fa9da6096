"""The incident-analysis notebook executes headless against a fresh database (and an empty one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfheal_ml.storage import Database
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.tracking import Tracker
from selfheal_ml.training import generate_history

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "incident_analysis.ipynb"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _kernel_available() -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return "python3" in KernelSpecManager().find_kernel_specs()
    except Exception:
        return False


def _execute(db_path: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    if not _kernel_available():
        pytest.skip("no python3 Jupyter kernel installed")
    monkeypatch.setenv("SELFHEAL_NOTEBOOK_DB", str(db_path))
    monkeypatch.setenv("SELFHEAL_NOTEBOOK_TRACKING_URI", tracking_uri)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend renders PNGs
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ]
    images = sum("image/png" in output.get("data", {}) for output in outputs)
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert not errors
    return "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for output in outputs
    ), images


def test_notebook_runs_on_a_fresh_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "demo.duckdb"
    database = Database(db_path)
    history = generate_history(seed=8, count=25, start=datetime(2026, 1, 5, tzinfo=UTC), days=10)
    IncidentStore(database).append_history(history)
    database.close()
    tracking_uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    Tracker(tracking_uri).log_run(
        "repair-strategy", "candidate-x", {"candidate": "x"}, {"macro_f1": 0.5, "brier": 0.3}
    )
    text, images = _execute(db_path, tracking_uri, monkeypatch)
    assert f"{len(history)} incidents" in text
    assert images >= 4  # over time, timings, success rates, root causes
    assert "candidate-x" in text  # the runs table


def test_notebook_copes_with_no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "empty.duckdb"
    Database(db_path).close()
    text, images = _execute(db_path, f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}", monkeypatch)
    assert images == 0
    assert "0 incidents, 0 repair attempts" in text
    assert "no incidents yet" in text and "no repair attempts yet" in text
    assert "no MLflow store" in text
    assert not (tmp_path / "none").exists()  # read-only: no store created
