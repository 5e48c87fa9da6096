"""MLflow tracking: the only module in the package that imports mlflow.

Pipelines and agents log through :class:`Tracker`, which points MLflow at one tracking URI
(default ``sqlite:///mlruns/mlflow.db``, artifacts under ``mlruns/artifacts``) for the duration
of a call, so nothing global leaks between callers and tests can use a temporary store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"


def artifact_location_for(tracking_uri: str) -> str | None:
    """Where artifacts of a new experiment go: next to a SQLite store, else the server's."""
    if tracking_uri.startswith("sqlite:///"):
        db_path = Path(tracking_uri.removeprefix("sqlite:///"))
        return (db_path.parent / "artifacts").resolve().as_uri()
    return None


class Tracker:
    """Logs runs, parameters, metrics and artifacts to one MLflow tracking store."""

    def __init__(self, tracking_uri: str = DEFAULT_TRACKING_URI) -> None:
        self.tracking_uri = tracking_uri
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    def client(self) -> MlflowClient:
        """An MLflow client bound to this store."""
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
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        try:
            experiment_id = self.experiment_id(experiment)
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {})
            ) as active:
                yield active
        finally:
            if previous is not None:
                mlflow.set_tracking_uri(previous)

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
            mlflow.log_params({key: str(value) for key, value in params.items()})
            mlflow.log_metrics({key: float(value) for key, value in metrics.items()})
            for path in artifacts or []:
                mlflow.log_artifact(str(path))
            return str(active.info.run_id)
