"""The Learning agent: turns incidents and verified repair outcomes into knowledge.

- ``IncidentStatusChanged``, ``RepairExecuted``: written to the incident history as they happen
  (:class:`~selfheal_ml.agents.history_writer.HistoryWriter`: lifecycle status, attempts; a
  ``worked`` outcome labels the incident and every verified one updates the signature's
  playbook). The diagnosis revisions they build on are written by the Diagnostic agent before
  it publishes them. When at least ``retrain_min_new`` incidents were labelled since the last
  training, it retrains.
- ``Tick(kind="retrain")``: retrains on schedule.

Retraining (:class:`~selfheal_ml.agents.retraining.Retrainer`) splits the labelled history by
time, runs :func:`selfheal_ml.training.train_and_register` and emits ``ModelTrained``, plus
``ModelPromoted`` when the gate moved the champion (the recommender then serves the new model).
In real time the training runs in a child process, waited for from a worker thread
(:mod:`selfheal_ml.training.child_training`): scikit-learn, matplotlib and MLflow leave with
it instead of staying in the service for good. In virtual time (the demo, one process by
design, where the run's speed matters) it runs in this process.

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore), ``tracker``
(Tracker), ``repair_model`` (RepairRecommender), ``trainer`` (a callable ``(train, holdout) ->
TrainingReport`` or ``TrainingOutcome``, default :func:`train_in_child` on ``tracker`` in real
time, :func:`train_and_register` in virtual time), ``retrain_min_new`` (50),
``retrain_min_total`` (30). Without ``incidents`` it only counts what it sees; without a
tracker or trainer it records history but never trains.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.agents.history_writer import HistoryWriter
from selfheal_ml.agents.retraining import Retrainer, Trainer
from selfheal_ml.clock import SimClock, run_blocking
from selfheal_ml.events import Event, IncidentStatusChanged, RepairExecuted, Tick
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.training.child_training import TrainingOutcome, train_in_child_process

if TYPE_CHECKING:
    from selfheal_ml.tracking import Tracker
    from selfheal_ml.training.datasets import Dataset
    from selfheal_ml.training.train import TrainingReport


def train_and_register(tracker: Tracker, train: Dataset, holdout: Dataset) -> TrainingReport:
    """:func:`selfheal_ml.training.train_and_register`, imported at the first training: the
    training code brings scikit-learn, SciPy, pandas and matplotlib (about 150 MB of RSS),
    which a service then holds only from its first training on (daily by default)."""
    from selfheal_ml.training.train import train_and_register as train_now

    return train_now(tracker, train, holdout)


def train_in_child(tracker: Tracker, train: Dataset, holdout: Dataset) -> TrainingOutcome:
    """:func:`train_and_register` in a child process on ``tracker``'s store (blocks the
    calling thread, not the event loop, until the child ends)."""
    return train_in_child_process(tracker.tracking_uri, train, holdout)


class LearningAgent(Agent):
    """Records outcomes, keeps playbooks, retrains and promotes the repair model."""

    name: ClassVar[str] = "Learning"
    subscriptions: ClassVar[tuple[Selector, ...]] = (RepairExecuted, IncidentStatusChanged, Tick)

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.seen: Counter[str] = Counter()
        self.incidents: IncidentStore | None = extras.get("incidents")
        self.recommender: Any = extras.get("repair_model")
        tracker = extras.get("tracker")
        in_process = isinstance(context.clock, SimClock)
        training = train_and_register if in_process else train_in_child
        default = functools.partial(training, tracker) if tracker is not None else None
        trainer: Trainer | None = extras.get("trainer", default)
        self.history = HistoryWriter(self.incidents) if self.incidents is not None else None
        self.retrainer: Retrainer | None = None
        if self.incidents is not None and trainer is not None:
            self.retrainer = Retrainer(
                self.incidents, trainer, context.clock, self.log, self.name, self.recommender,
                min_new=int(extras.get("retrain_min_new", 50)),
                min_total=int(extras.get("retrain_min_total", 30)),
            )  # fmt: skip
        self._training = False

    async def handle(self, event: Event) -> list[Event]:
        key = f"Tick:{event.kind}" if isinstance(event, Tick) else type(event).__name__
        self.seen[key] += 1
        if self.history is None:
            return []
        if isinstance(event, Tick):
            return await self.retrain() if event.kind == "retrain" else []
        if isinstance(event, IncidentStatusChanged | RepairExecuted):
            await run_blocking(self.context.clock, self.history.record, event)
        if isinstance(event, RepairExecuted) and await self._retrain_due():
            return await self.retrain()
        return []

    async def _retrain_due(self) -> bool:
        """Whether enough new labels arrived (a store without a trainer never trains)."""
        if self.retrainer is None:
            return False
        return await run_blocking(self.context.clock, self.retrainer.due)

    async def retrain(self) -> list[Event]:
        """Train on the labelled history if there is enough of it; the resulting events."""
        if self.retrainer is None or self._training:
            return []
        self._training = True
        try:
            report = await run_blocking(self.context.clock, self.retrainer.train)
        finally:
            self._training = False
        if report is None:
            return []
        return self.retrainer.announce(report, self.context.clock.now())
