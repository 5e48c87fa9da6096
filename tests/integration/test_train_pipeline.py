"""``python pipelines/train_repair_classifier.py`` on a clean directory: experiment, >= 3
candidate runs, registered model with a champion alias, model card; the recommend endpoint then
answers from that champion. Opt-in (``-m slow``): it simulates, trains and logs for real."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfheal_ml.api import create_app
from selfheal_ml.api.routes import repair
from selfheal_ml.clock import SimClock
from selfheal_ml.config import load_settings
from selfheal_ml.tracking import Tracker
from selfheal_ml.training import CHAMPION, EXPERIMENT, MODEL_NAME, RepairRecommender

SCRIPT = Path(__file__).resolve().parents[2] / "pipelines" / "train_repair_classifier.py"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("fresh_clone")
    command = [
        sys.executable,
        str(SCRIPT),
        "--incidents",
        "300",
        "--holdout-incidents",
        "100",
        "--days",
        "30",
        "--workers",
        "1",
        "--write-card",
    ]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "registered repair-strategy v1" in result.stdout
    yield workdir


def test_experiment_runs_model_and_card(trained: Path) -> None:
    tracker = Tracker(f"sqlite:///{trained / 'mlruns' / 'mlflow.db'}")
    runs = tracker.search_runs(EXPERIMENT)
    candidates = runs[runs["tags.role"] == "candidate"]
    assert len(candidates) >= 3
    for column in (
        "metrics.accuracy",
        "metrics.macro_f1",
        "metrics.top2_accuracy",
        "metrics.brier",
        "params.train_start",
        "params.train_end",
    ):
        assert candidates[column].notna().all()
    artifacts = tracker.client().list_artifacts(str(candidates.iloc[0]["run_id"]))
    names = {artifact.path for artifact in artifacts}
    assert {"confusion_matrix.png", "per_class_report.json"} <= names
    assert tracker.alias_version(MODEL_NAME, CHAMPION) == "1"
    card = (trained / "models" / "repair-strategy.md").read_text()
    assert "macro-F1" in card and "Known limits" in card and "version 1" in card


def test_the_endpoint_answers_from_the_champion(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFHEAL_ADMIN_TOKEN", "t")
    monkeypatch.setenv("SELFHEAL_DB", str(tmp_path / "api.duckdb"))
    app = create_app(load_settings(), clock=SimClock(), run_scheduler=False)
    if not any(getattr(route, "path", "") == "/v1/repair/recommend" for route in app.routes):
        app.include_router(repair.router)
    recommender = RepairRecommender(Tracker(f"sqlite:///{trained / 'mlruns' / 'mlflow.db'}"))
    assert recommender.reload()
    app.state.repair_recommender = recommender
    with TestClient(app) as client:
        body = client.post(
            "/v1/repair/recommend",
            json={
                "db_up_down": 40.0,
                "db_connections_down": 30.0,
                "errors_5xx_up": 20.0,
                "latency_up": 10.0,
                "platforms_anomalous": 5,
                "dependencies_anomalous": 1,
            },
        ).json()
    assert body["model_version"] == "1"
    assert body["strategies"][0]["strategy"] == "reset_db_connections"
