"""MLflow tracking: the only module in the package that imports mlflow.

Serving reads a SQLite registry without it (:mod:`selfheal_ml.registry_reader`): the champion
lookup and load cost the service no MLflow import.

MLflow is imported by the first call that needs it (:func:`_mlflow`), not with this module:
it costs about 100 MB and 2 CPU s, and the API process builds a :class:`Tracker` whether or
not anything is ever tracked.

Pipelines and agents log through :class:`Tracker`, which points MLflow at one tracking URI
(default ``sqlite:///mlruns/mlflow.db``, artifacts under ``mlruns/artifacts``) for the duration
of a call, so nothing global leaks between callers and tests can use a temporary store.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from selfheal_ml.registry_reader import (
    RegistryLayoutUnknownError,
    aliased_version,
    load_skops_model,
    read_served_model,
    resolve_models_uri,
    sqlite_store_path,
)
from selfheal_ml.serving.form import ARRAYS_FILE, HEADER_FILE, ServingForm

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
log = logging.getLogger("selfheal_ml.tracking")


def _mlflow() -> Any:
    """The ``mlflow`` module, imported on first use."""
    import mlflow

    return mlflow


def _model_code_flag() -> str:
    """The environment variable that lets MLflow load a pickled model: in newer MLflow (3.18)
    ``MLFLOW_ALLOW_MODEL_CODE_EXECUTION`` (the older name is deprecated, and merely defining it
    warns), before it ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``."""
    from mlflow import environment_variables

    if hasattr(environment_variables, "MLFLOW_ALLOW_MODEL_CODE_EXECUTION"):
        return "MLFLOW_ALLOW_MODEL_CODE_EXECUTION"
    return "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


def artifact_location_for(tracking_uri: str) -> str | None:
    """Where artifacts of a new experiment go: next to a SQLite store, else the server's."""
    if tracking_uri.startswith("sqlite:///"):
        db_path = Path(tracking_uri.removeprefix("sqlite:///"))
        return (db_path.parent / "artifacts").resolve().as_uri()
    return None


def _sklearn_requirements() -> list[str]:
    """Pinned requirements of a logged scikit-learn model (skips MLflow's slow inference)."""
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in ("scikit-learn", "numpy", "skops")]


def _write_serving_form(form: ServingForm, directory: Path) -> list[str]:
    """The serving form as its two files in ``directory``; their paths."""
    header, arrays = directory / HEADER_FILE, directory / ARRAYS_FILE
    header.write_text(json.dumps(form.header, indent=1))
    np.savez(arrays, allow_pickle=False, **form.arrays)
    return [str(header), str(arrays)]


def tracking_store_exists(tracking_uri: str) -> bool:
    """Whether the store already exists (a server URI is assumed to)."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri.removeprefix("sqlite:///")).exists()
    return True


class Tracker:
    """Logs runs, parameters, metrics and artifacts to one MLflow tracking store."""

    def __init__(self, tracking_uri: str = DEFAULT_TRACKING_URI) -> None:
        self.tracking_uri = tracking_uri
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    def client(self) -> Any:
        """An MLflow client (``mlflow.tracking.MlflowClient``) bound to this store."""
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created (with local artifacts) if missing."""
        client = self.client()
        existing = client.get_experiment_by_name(name)
        if existing is not None:
            return str(existing.experiment_id)
        location = artifact_location_for(self.tracking_uri)
        return str(client.create_experiment(name, artifact_location=location))

    @contextmanager
    def run(
        self, experiment: str, run_name: str, tags: Mapping[str, str] | None = None
    ) -> Iterator[Any]:
        """Open an active MLflow run; inside it ``mlflow.log_*`` calls land in this store."""
        previous = os.environ.get("MLFLOW_TRACKING_URI")
        _mlflow().set_tracking_uri(self.tracking_uri)
        _mlflow().set_registry_uri(self.tracking_uri)
        try:
            experiment_id = self.experiment_id(experiment)
            with _mlflow().start_run(
                experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {})
            ) as active:
                yield active
        finally:
            if previous is not None:
                _mlflow().set_tracking_uri(previous)

    def log_run(
        self,
        experiment: str,
        run_name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        artifacts: list[Path] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Log one finished run in a single call; returns the run id."""
        with self.run(experiment, run_name, tags) as active:
            _mlflow().log_params({key: str(value) for key, value in params.items()})
            _mlflow().log_metrics({key: float(value) for key, value in metrics.items()})
            for path in artifacts or []:
                _mlflow().log_artifact(str(path))
            return str(active.info.run_id)

    # ---- logging inside an open run (``with tracker.run(...)``) -----------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters to the active run (values as strings)."""
        _mlflow().log_params({key: str(value) for key, value in params.items()})

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Log scalar metrics to the active run."""
        _mlflow().log_metrics({key: float(value) for key, value in metrics.items()})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Tag the active run."""
        _mlflow().set_tags(dict(tags))

    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Log a JSON/YAML artifact to the active run."""
        _mlflow().log_dict(dict(dictionary), artifact_file)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Log a text artifact to the active run."""
        _mlflow().log_text(text, artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Log a matplotlib figure to the active run."""
        _mlflow().log_figure(figure, artifact_file)

    def log_sklearn_model(
        self,
        model: Any,
        name: str,
        input_example: Any,
        trusted_types: Sequence[str] = (),
        serving_form: ServingForm | None = None,
        extra_json: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> str:
        """Log a fitted scikit-learn model (skops format) with a signature inferred from
        ``input_example`` (a DataFrame) and its predictions; returns the model URI.

        ``trusted_types`` are the non-default types the model's skops file holds (tree nodes).
        A ``serving_form`` (:mod:`selfheal_ml.serving`) goes in the same model directory, as
        MLflow's extra files ``extra_files/serving_form.json`` and ``.npz``; so does each of
        ``extra_json`` (file name to JSON-ready data), read back by :meth:`model_extra_json`.
        """
        from mlflow.models import infer_signature

        with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
            extra_files: list[str] | None = None
            if serving_form is not None:
                extra_files = _write_serving_form(serving_form, Path(scratch))
            for file_name, data in (extra_json or {}).items():
                path = Path(scratch) / file_name
                path.write_text(json.dumps(data, separators=(",", ":")))
                extra_files = [*(extra_files or []), str(path)]
            warnings.simplefilter("ignore", UserWarning)  # mlflow's own type-hint chatter
            signature = infer_signature(input_example, model.predict(input_example))
            info = _mlflow().sklearn.log_model(
                model,
                name=name,
                signature=signature,
                input_example=input_example,
                serialization_format="skops",
                skops_trusted_types=list(trusted_types) or None,
                pip_requirements=_sklearn_requirements(),
                extra_files=extra_files,
            )
        return str(info.model_uri)

    # ---- model registry (aliases, no stages) -------------------------------------------------
    def register_model(
        self, model_uri: str, name: str, tags: Mapping[str, str] | None = None
    ) -> str:
        """Register ``model_uri`` as a new version of ``name``; returns the version."""
        client = self.client()
        try:
            client.get_registered_model(name)
        except _mlflow().exceptions.MlflowException:
            client.create_registered_model(name)
        run_id = None
        if model_uri.startswith("runs:/"):
            run_id = model_uri.removeprefix("runs:/").split("/", 1)[0]
        version = client.create_model_version(name, model_uri, run_id=run_id, tags=dict(tags or {}))
        return str(version.version)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``name@alias`` at ``version``."""
        self.client().set_registered_model_alias(name, alias, version)

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version ``name@alias`` points at, or ``None`` (no model or no alias).

        A SQLite store is read with :mod:`sqlite3` (:mod:`selfheal_ml.registry_reader`), so
        the service's champion lookup does not import MLflow; a missing store has no model
        (and is not created); a layout the reader does not know is asked of MLflow.
        """
        database = sqlite_store_path(self.tracking_uri)
        if database is not None:
            if not database.exists():
                return None
            try:
                found = aliased_version(database, name, alias)
                return None if found is None else found.version
            except (RegistryLayoutUnknownError, sqlite3.Error) as error:
                log.info("registry read through MLflow (%s)", error)
        return self.alias_version_from_mlflow(name, alias)

    def alias_version_from_mlflow(self, name: str, alias: str) -> str | None:
        """:meth:`alias_version` through MLflow's client (any store MLflow supports)."""
        try:
            return str(self.client().get_model_version_by_alias(name, alias).version)
        except _mlflow().exceptions.MlflowException:
            return None

    def set_version_tags(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        """Tag one model version (e.g. its holdout scores, the gate's decision)."""
        client = self.client()
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)

    def version_tags(self, name: str, version: str) -> dict[str, str]:
        """The tags of one model version."""
        return dict(self.client().get_model_version(name, version).tags)

    @contextmanager
    def _bound(self) -> Iterator[None]:
        """Point mlflow's global tracking and registry URIs here for one block."""
        previous_tracking = _mlflow().get_tracking_uri()
        previous_registry = _mlflow().get_registry_uri()
        _mlflow().set_tracking_uri(self.tracking_uri)
        _mlflow().set_registry_uri(self.tracking_uri)
        try:
            yield
        finally:
            _mlflow().set_tracking_uri(previous_tracking)
            _mlflow().set_registry_uri(previous_registry)

    def load_sklearn_model(self, model_uri: str) -> Any:
        """Load a scikit-learn model, e.g. ``models:/repair-strategy@champion``.

        Loading a model can run code from its artifact, so MLflow may refuse unless its flag
        is true (:func:`_model_code_flag`); this store holds only models our own pipeline
        logged, so the flag is set for the duration of this call. Point the tracker
        only at stores that nobody else can write to.

        A registry URI on a SQLite store whose model is a local skops file is loaded without
        MLflow (the same file and ``skops.io.load`` call MLflow would use; see
        :mod:`selfheal_ml.registry_reader`); anything else goes through MLflow.
        """
        database = sqlite_store_path(self.tracking_uri)
        if database is not None and database.exists():
            try:
                found = resolve_models_uri(database, model_uri)
                if found is not None:
                    return load_skops_model(found.directory)
            except (RegistryLayoutUnknownError, sqlite3.Error) as error:
                log.info("model %s loaded through MLflow (%s)", model_uri, error)
        return self.load_sklearn_model_from_mlflow(model_uri)

    def load_served_model(self, model_uri: str) -> Any:
        """The model the service serves for ``model_uri``: its serving form, predicted with
        numpy alone (:mod:`selfheal_ml.serving`), when the version has one on a SQLite store;
        else the scikit-learn model (:meth:`load_sklearn_model`, which imports scikit-learn),
        with a log line saying why."""
        database = sqlite_store_path(self.tracking_uri)
        reason = "not a SQLite store"
        if database is not None and database.exists():
            try:
                found = resolve_models_uri(database, model_uri)
                served = None if found is None else read_served_model(found.directory)
                if served is not None:
                    return served
                reason = "no such version" if found is None else "no serving form (older version)"
            except (RegistryLayoutUnknownError, ValueError, OSError, sqlite3.Error) as error:
                reason = f"serving form unreadable: {error}"  # ServingFormError is a ValueError
        log.info("model %s served with scikit-learn: %s", model_uri, reason)
        return self.load_sklearn_model(model_uri)

    def model_extra_json(self, model_uri: str, file_name: str) -> dict[str, Any] | None:
        """A JSON file :meth:`log_sklearn_model` logged with ``extra_json`` for the version
        ``model_uri`` names, or ``None`` when that version has none. A SQLite store is read
        without MLflow (:mod:`selfheal_ml.registry_reader`); any other store through it."""
        database = sqlite_store_path(self.tracking_uri)
        if database is not None and database.exists():
            try:
                found = resolve_models_uri(database, model_uri)
                if found is None:
                    return None
                path = found.directory / "extra_files" / file_name
                return json.loads(path.read_text()) if path.exists() else None
            except (RegistryLayoutUnknownError, sqlite3.Error) as error:
                log.info("extra file of %s read through MLflow (%s)", model_uri, error)
        try:
            with self._bound():
                local = _mlflow().artifacts.download_artifacts(
                    artifact_uri=f"{model_uri}/extra_files/{file_name}"
                )
        except (_mlflow().exceptions.MlflowException, OSError):
            return None
        loaded: dict[str, Any] = json.loads(Path(local).read_text())
        return loaded

    def load_sklearn_model_from_mlflow(self, model_uri: str) -> Any:
        """:meth:`load_sklearn_model` through ``mlflow.sklearn.load_model``."""
        flag = _model_code_flag()
        previous = os.environ.get(flag)
        os.environ[flag] = "true"
        try:
            with self._bound(), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return _mlflow().sklearn.load_model(model_uri)
        finally:
            if previous is None:
                os.environ.pop(flag, None)
            else:
                os.environ[flag] = previous

    def search_runs(self, experiment: str) -> Any:
        """The runs of ``experiment`` as a pandas DataFrame (empty if it does not exist)."""
        import pandas as pd

        existing = self.client().get_experiment_by_name(experiment)
        if existing is None:
            return pd.DataFrame()
        with self._bound():
            return _mlflow().search_runs(
                experiment_ids=[existing.experiment_id], output_format="pandas"
            )
