"""When and how the Learning agent retrains the repair-strategy classifier.

:meth:`Retrainer.due` says whether at least ``min_new`` incidents were labelled since the last
training. :meth:`Retrainer.train` splits the labelled history by time (oldest 80 % to train,
newest :data:`HOLDOUT_FRACTION` as the holdout) and runs the trainer (a child process running
:func:`selfheal_ml.training.train_and_register` in a live service, see
:mod:`selfheal_ml.training.child_training`); it declines with fewer than ``min_total``
labelled incidents or a single class, when the trainer refuses a history it cannot use (a
``ValueError``: try again later), and when the training child fails (logged as an error: the
agent keeps running and tries again at the next trigger). Both read DuckDB: call them off the
event loop. :meth:`Retrainer.announce` turns a training into ``ModelTrained`` (and
``ModelPromoted`` when the gate moved the champion, which the recommender then serves: the
model itself when it was trained in this process, else read from the registry at its next
recommendation).
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
from selfheal_ml.training.child_training import TrainingFailedError, TrainingOutcome
from selfheal_ml.training.registry_names import MODEL_NAME

if TYPE_CHECKING:  # the training code (pandas, scikit-learn, matplotlib) loads at the first fit
    from selfheal_ml.training.datasets import Dataset
    from selfheal_ml.training.train import TrainingReport

LABELLED_AT_LAST_TRAINING = "labelled_at_last_training"
HOLDOUT_FRACTION = 0.2
Trainer = Callable[["Dataset", "Dataset"], "TrainingReport | TrainingOutcome"]


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

    def train(self) -> TrainingOutcome | None:
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
            produced = self.trainer(train, holdout)
        except ValueError as error:  # too little or too lopsided history: try again later
            self.log.warning("not retraining: %s", error)
            return None
        except TrainingFailedError as error:  # the child died: the agent does not
            self.log.error("retraining failed: %s", error)
            return None
        self.store.set_state(LABELLED_AT_LAST_TRAINING, str(len(labels)), self.clock.now())
        if isinstance(produced, TrainingOutcome):
            self.log.info(
                "trained %s v%s in a child process (peak RSS %s MB)",
                MODEL_NAME, produced.version, produced.peak_rss_mb,
            )  # fmt: skip
            return produced
        return TrainingOutcome.of_report(produced)

    def announce(self, outcome: TrainingOutcome, now: datetime) -> list[Event]:
        """The events of a training; the recommender learns of a promoted model."""
        events: list[Event] = [
            ModelTrained(
                ts=now,
                source=self.source,
                model_name=MODEL_NAME,
                version=outcome.version,
                metrics=outcome.metrics,
            )
        ]
        if outcome.promoted:
            if self.recommender is not None and outcome.model is not None:
                self.recommender.use(outcome.model, outcome.version)
            elif self.recommender is not None:  # trained in a child: the registry has it
                self.recommender.invalidate()
            events.append(
                ModelPromoted(
                    ts=now, source=self.source, model_name=MODEL_NAME, version=outcome.version
                )
            )
        return events
