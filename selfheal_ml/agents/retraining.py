"""When and how the Learning agent retrains the repair-strategy classifier.

:meth:`Retrainer.due` says whether at least ``min_new`` incidents were labelled since the last
training. :meth:`Retrainer.train` splits the labelled history by time (oldest 80 % to train,
newest :data:`HOLDOUT_FRACTION` as the holdout) and runs the trainer
(:func:`selfheal_ml.training.train_and_register` by default); it declines with fewer than
``min_total`` labelled incidents or a single class, and when the trainer refuses a history it
cannot use (a ``ValueError``: try again later). Both read DuckDB: call them off the event loop.
:meth:`Retrainer.announce` turns a training into ``ModelTrained`` (and ``ModelPromoted`` when the
gate moved the champion, which the recommender then serves at once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from selfheal_ml.clock import Clock
from selfheal_ml.events import Event, ModelPromoted, ModelTrained
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.training.registry_names import MODEL_NAME

if TYPE_CHECKING:  # the training code (pandas, scikit-learn, matplotlib) loads at the first fit
    from selfheal_ml.training.datasets import Dataset
    from selfheal_ml.training.train import TrainingReport

LABELLED_AT_LAST_TRAINING = "labelled_at_last_training"
HOLDOUT_FRACTION = 0.2
Trainer = Callable[["Dataset", "Dataset"], "TrainingReport"]


@dataclass
class Retrainer:
    """Trains on the labelled incident history (see the module docstring)."""

    store: IncidentStore
    trainer: Trainer
    clock: Clock
    log: logging.Logger
    source: str
    recommender: Any = None  # RepairRecommender: ``use(model, version)``
    min_new: int = 50
    min_total: int = 30

    def due(self) -> bool:
        """Whether enough incidents were labelled since the last training."""
        last = int(self.store.state(LABELLED_AT_LAST_TRAINING) or 0)
        return self.store.count_labelled() - last >= self.min_new

    def train(self) -> TrainingReport | None:
        """Train if the history allows; the report, or ``None`` when it declined."""
        features, labels, opened_at = self.store.labelled_frame()
        if len(labels) < self.min_total or len(set(labels)) < 2:
            self.log.info("not retraining: %d labelled incidents", len(labels))
            return None
        from selfheal_ml.training.datasets import Dataset

        rows = features.to_dict("records")
        data = Dataset.of(
            [{str(k): float(v) for k, v in row.items()} for row in rows], labels, opened_at
        )
        train, holdout = data.split(1.0 - HOLDOUT_FRACTION)
        try:
            report = self.trainer(train, holdout)
        except ValueError as error:  # too little or too lopsided history: try again later
            self.log.warning("not retraining: %s", error)
            return None
        self.store.set_state(LABELLED_AT_LAST_TRAINING, str(len(labels)), self.clock.now())
        return report

    def announce(self, report: TrainingReport, now: datetime) -> list[Event]:
        """The events of a training; a promoted model is handed to the recommender."""
        events: list[Event] = [
            ModelTrained(
                ts=now,
                source=self.source,
                model_name=MODEL_NAME,
                version=report.version,
                metrics=report.best.holdout.headline(),
            )
        ]
        if report.decision.promote:
            if self.recommender is not None:
                self.recommender.use(report.best.model, report.version)
            events.append(
                ModelPromoted(
                    ts=now, source=self.source, model_name=MODEL_NAME, version=report.version
                )
            )
        return events
