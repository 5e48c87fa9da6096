"""Training the repair-strategy model in a child process, so its memory leaves with it.

:func:`~selfheal_ml.training.train.train_and_register` imports scikit-learn, matplotlib and
MLflow (with SQLAlchemy and Alembic): about 140 MB that a long-running service would hold for
good after its first retraining, since Python does not unload modules. The Learning agent
therefore runs it as ``python -m selfheal_ml.training.child_training TRACKING_URI IN OUT``:

- the parent writes the two datasets as JSON (``IN``), waits for the child in a worker thread
  (the event loop keeps running) and reads a :class:`TrainingOutcome` from ``OUT``;
- the child trains, logs and registers as before (the same function, the same MLflow store),
  lowers its own CPU priority first, and reports its peak RSS;
- a history the trainer refuses (a ``ValueError``: too little, too lopsided) comes back as a
  ``ValueError``, as it does in-process; any other failure (a crash, a kill, a timeout,
  unreadable output) as :class:`TrainingFailedError` with the end of the child's stderr.

The promoted model stays in the registry: the parent's recommender reads it from there
(:meth:`selfheal_ml.training.recommender.RepairRecommender.invalidate`), without MLflow.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfheal_ml.heap import peak_rss_mb

if TYPE_CHECKING:
    from selfheal_ml.training.datasets import Dataset
    from selfheal_ml.training.train import TrainingReport

log = logging.getLogger("selfheal_ml.training.child")

#: A training that has not finished after this long is stopped (daily retraining takes
#: seconds to a few minutes on the labelled history of a year).
DEFAULT_TIMEOUT_S = 3600.0
#: Exit status of a child whose trainer refused the history (a ``ValueError``).
REFUSED_EXIT = 3
STDERR_TAIL_CHARS = 2000


class TrainingFailedError(RuntimeError):
    """The training child crashed, was killed, timed out or wrote no readable outcome."""


@dataclass(frozen=True)
class TrainingOutcome:
    """What a training produced, as the Learning agent announces it.

    ``model`` is the fitted model when the training ran in this process, ``None`` when it ran
    in a child (the registry holds it).
    """

    version: str
    metrics: dict[str, float]
    promoted: bool
    reason: str
    model: Any = None
    peak_rss_mb: float | None = None

    @classmethod
    def of_report(cls, report: TrainingReport) -> TrainingOutcome:
        """The outcome of an in-process training's report (the model included)."""
        return cls(
            version=str(report.version),
            metrics=dict(report.best.holdout.headline()),
            promoted=bool(report.decision.promote),
            reason=str(report.decision.reason),
            model=report.best.model,
        )


def dataset_document(data: Dataset) -> dict[str, list[Any]]:
    """A dataset as JSON-ready lists (rows of floats, labels, ISO opening times)."""
    rows = data.features.to_dict("records")
    return {
        "rows": [{str(key): float(value) for key, value in row.items()} for row in rows],
        "labels": list(data.labels),
        "opened_at": [moment.isoformat() for moment in data.opened_at],
    }


def dataset_of_document(document: dict[str, list[Any]]) -> Dataset:
    """The dataset :func:`dataset_document` wrote."""
    from selfheal_ml.training.datasets import Dataset

    opened_at = [datetime.fromisoformat(moment) for moment in document["opened_at"]]
    return Dataset.of(document["rows"], document["labels"], opened_at)


def train_in_child_process(
    tracking_uri: str,
    train: Dataset,
    holdout: Dataset,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    command: tuple[str, ...] = (sys.executable, "-m", "selfheal_ml.training.child_training"),
) -> TrainingOutcome:
    """Train and register in a child process; blocks the calling thread until it ends."""
    with tempfile.TemporaryDirectory(prefix="selfheal-training-") as folder:
        request, answer = Path(folder) / "datasets.json", Path(folder) / "outcome.json"
        document = {"train": dataset_document(train), "holdout": dataset_document(holdout)}
        request.write_text(json.dumps(document))
        try:
            finished = subprocess.run(
                [*command, tracking_uri, str(request), str(answer)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise TrainingFailedError(f"training child did not finish: {error}") from error
        tail = finished.stderr[-STDERR_TAIL_CHARS:]
        if finished.returncode == REFUSED_EXIT and answer.exists():
            raise ValueError(json.loads(answer.read_text())["refused"])
        if finished.returncode != 0:
            raise TrainingFailedError(f"training child exited {finished.returncode}: {tail}")
        try:
            found = json.loads(answer.read_text())
            return TrainingOutcome(
                version=str(found["version"]),
                metrics={str(k): float(v) for k, v in found["metrics"].items()},
                promoted=bool(found["promoted"]),
                reason=str(found["reason"]),
                peak_rss_mb=float(found["peak_rss_mb"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise TrainingFailedError(
                f"training child wrote no outcome ({error}): {tail}"
            ) from error


def main(arguments: list[str] | None = None) -> int:
    """The child: train on the datasets in ``IN``, write the outcome to ``OUT``."""
    tracking_uri, request, answer = arguments if arguments is not None else sys.argv[1:4]
    os.nice(10)  # the service's API and agents come first
    logging.basicConfig(level=logging.WARNING)
    from selfheal_ml.tracking import Tracker
    from selfheal_ml.training.train import train_and_register

    document = json.loads(Path(request).read_text())
    train, holdout = (dataset_of_document(document[side]) for side in ("train", "holdout"))
    try:
        report = train_and_register(Tracker(tracking_uri), train, holdout)
    except ValueError as refused:
        Path(answer).write_text(json.dumps({"refused": str(refused)}))
        return REFUSED_EXIT
    outcome = TrainingOutcome.of_report(report)
    peak_mb = peak_rss_mb()
    Path(answer).write_text(
        json.dumps(
            {
                "version": outcome.version,
                "metrics": outcome.metrics,
                "promoted": outcome.promoted,
                "reason": outcome.reason,
                "peak_rss_mb": round(peak_mb, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
