"""The champion read with sqlite3 is the champion MLflow reads, and reading it needs no MLflow;
served from its serving form it predicts as the scikit-learn model, without scikit-learn."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from selfheal_ml.registry_reader import RegistryLayoutUnknownError, resolve_models_uri
from selfheal_ml.repair.classifier import build_candidate
from selfheal_ml.repair.features import feature_frame
from selfheal_ml.serving.export import export
from selfheal_ml.serving.model import ServedModel
from selfheal_ml.tracking import Tracker
from selfheal_ml.training import CHAMPION, MODEL_NAME, Dataset, generate_history, train_and_register

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Tracker:
    """A store with two versions of the repair model (a forest, with trusted tree types, and
    a logistic regression), the champion alias on the first that was promoted."""
    import mlflow  # (the test of the reader itself runs in a subprocess without it)

    # an earlier test's active run or global URIs would take this fixture's logged models
    while mlflow.active_run() is not None:
        mlflow.end_run()
    root = tmp_path_factory.mktemp("registry")
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    tracker = Tracker(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    train = Dataset.from_history(generate_history(seed=41, count=60, start=START, days=20))
    holdout = Dataset.from_history(
        generate_history(seed=42, count=20, start=datetime(2026, 2, 1, tzinfo=UTC), days=7)
    )
    train_and_register(tracker, train, holdout, candidates=("random_forest",))
    train_and_register(tracker, train, holdout, candidates=("logistic_regression",))
    return tracker


def _rows() -> object:
    return feature_frame([{"db_up_down": 40.0}, {"http_latency_p95": 3.0}, {}])


def test_alias_and_model_equal_mlflows(registered: Tracker) -> None:
    version = registered.alias_version(MODEL_NAME, CHAMPION)
    assert version is not None
    assert version == registered.alias_version_from_mlflow(MODEL_NAME, CHAMPION)
    assert registered.alias_version(MODEL_NAME, "no-such-alias") is None
    assert registered.alias_version("no-such-model", CHAMPION) is None
    for uri in (
        f"models:/{MODEL_NAME}@{CHAMPION}",
        f"models:/{MODEL_NAME}/1",
        f"models:/{MODEL_NAME}/2",
    ):
        direct = registered.load_sklearn_model(uri)
        through_mlflow = registered.load_sklearn_model_from_mlflow(uri)
        assert type(direct) is type(through_mlflow)
        assert list(direct.classes_) == list(through_mlflow.classes_)
        np.testing.assert_array_equal(
            direct.predict_proba(_rows()), through_mlflow.predict_proba(_rows())
        )


def test_lookup_and_load_import_no_mlflow(registered: Tracker) -> None:
    program = (
        "import sys; from selfheal_ml.tracking import Tracker; "
        f"t = Tracker({registered.tracking_uri!r}); "
        f"v = t.alias_version({MODEL_NAME!r}, {CHAMPION!r}); "
        f"m = t.load_sklearn_model('models:/{MODEL_NAME}@{CHAMPION}'); "
        "print(v, type(m).__name__, sorted(n for n in ('mlflow', 'sqlalchemy', 'alembic') "
        "if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [registered.alias_version(MODEL_NAME, CHAMPION), "Pipeline", "[]"]


def test_a_missing_store_has_no_model_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "mlruns" / "mlflow.db"
    assert Tracker(f"sqlite:///{database}").alias_version(MODEL_NAME, CHAMPION) is None
    assert not database.exists()


def test_an_unknown_layout_is_asked_of_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "other.db"
    sqlite3.connect(database).execute("CREATE TABLE unrelated (x INTEGER)").connection.close()
    with pytest.raises(RegistryLayoutUnknownError):
        resolve_models_uri(database, f"models:/{MODEL_NAME}@{CHAMPION}")
    tracker = Tracker(f"sqlite:///{database}")
    asked: list[str] = []
    monkeypatch.setattr(
        Tracker, "alias_version_from_mlflow", lambda self, name, alias: asked.append(name) or "7"
    )
    monkeypatch.setattr(
        Tracker, "load_sklearn_model_from_mlflow", lambda self, uri: asked.append(uri) or "model"
    )
    assert tracker.alias_version(MODEL_NAME, CHAMPION) == "7"
    assert tracker.load_sklearn_model(f"models:/{MODEL_NAME}@{CHAMPION}") == "model"
    assert asked == [MODEL_NAME, f"models:/{MODEL_NAME}@{CHAMPION}"]


def test_an_unknown_uri_is_not_guessed(tmp_path: Path) -> None:
    with pytest.raises(RegistryLayoutUnknownError):
        resolve_models_uri(tmp_path / "x.db", "runs:/abc/model")


@pytest.mark.parametrize("uri", [f"models:/{MODEL_NAME}/1", f"models:/{MODEL_NAME}/2"])
def test_a_served_version_predicts_as_its_sklearn_model(registered: Tracker, uri: str) -> None:
    served = registered.load_served_model(uri)
    assert isinstance(served, ServedModel)
    fitted = registered.load_sklearn_model(uri)
    assert served.classes_.tolist() == list(fitted.classes_)
    np.testing.assert_allclose(
        served.predict_proba(_rows()), fitted.predict_proba(_rows()), rtol=0, atol=1e-12
    )
    assert served.predict(_rows()).tolist() == fitted.predict(_rows()).tolist()


def test_the_champion_lookup_imports_no_sklearn(registered: Tracker) -> None:
    """The recommender's path in a fresh process: alias, load, recommend; nothing heavy."""
    program = (
        "import sys; from selfheal_ml.tracking import Tracker; "
        "from selfheal_ml.training.recommender import RepairRecommender; "
        f"r = RepairRecommender(Tracker({registered.tracking_uri!r})); "
        "advice = r.recommend({'db_up_down': 40.0}); "
        "print(r.model_version, advice.fallback, sorted(n for n in "
        "('sklearn', 'scipy', 'skops', 'mlflow', 'sqlalchemy') if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == registered.alias_version(MODEL_NAME, CHAMPION)
    assert out[2:] == ["[]"]


def test_a_version_without_a_readable_serving_form_is_served_with_sklearn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A version logged before serving forms existed, or whose form is damaged, still serves
    (scikit-learn, logged)."""
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    train = Dataset.from_history(generate_history(seed=43, count=40, start=START, days=10))
    model = build_candidate("logistic_regression", 0).fit(train.features, list(train.labels))
    with tracker.run("older", "without-serving-form"):
        uri = tracker.log_sklearn_model(model, "model", train.features.head(2))
    version = tracker.register_model(uri, MODEL_NAME)
    with caplog.at_level(logging.INFO, logger="selfheal_ml.tracking"):
        loaded = tracker.load_served_model(f"models:/{MODEL_NAME}/{version}")
    assert type(loaded).__name__ == "Pipeline"
    assert "served with scikit-learn: no serving form (older version)" in caplog.text

    with tracker.run("older", "with-a-broken-serving-form"):
        uri = tracker.log_sklearn_model(
            model, "model", train.features.head(2), serving_form=export(model)
        )
    broken = tracker.register_model(uri, MODEL_NAME)
    found = resolve_models_uri(
        Path(tracker.tracking_uri.removeprefix("sqlite:///")), f"models:/{MODEL_NAME}/{broken}"
    )
    assert found is not None
    (found.directory / "extra_files" / "serving_form.json").write_text("{not json")
    with caplog.at_level(logging.INFO, logger="selfheal_ml.tracking"):
        loaded = tracker.load_served_model(f"models:/{MODEL_NAME}/{broken}")
    assert type(loaded).__name__ == "Pipeline"
    assert "served with scikit-learn: serving form unreadable" in caplog.text
