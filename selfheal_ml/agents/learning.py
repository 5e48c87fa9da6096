"""The Learning agent: turns incidents and verified repair outcomes into knowledge.

- ``IncidentDiagnosed``: each revision of the typed diagnosis is written to the incident record
  (root cause, platforms, severity, signals, features) and kept in ``incident_revisions``.
- ``IncidentStatusChanged``: the incident's lifecycle status (and its reason) is recorded as the
  Repair agent decided it; nothing is recomputed here.
- ``RepairExecuted``: the attempt and its verified outcome are recorded; a ``worked`` outcome
  closes and labels the incident; the per-signature playbook (attempts, successes, Wilson
  interval) is updated in DuckDB, so it survives restarts. When at least ``retrain_min_new``
  labelled incidents arrived since the last training, it retrains.
- ``Tick(kind="retrain")``: retrains on schedule.

Retraining splits the labelled history by time (oldest 80 % to train, newest 20 % as the
holdout), runs :func:`selfheal_ml.training.train_and_register` in a worker thread and emits
``ModelTrained``, plus ``ModelPromoted`` when the gate moved the champion (the recommender then
serves the new model at once).

Ports (``AgentContext.extras``), all optional: ``incidents`` (IncidentStore), ``tracker``
(Tracker), ``repair_model`` (RepairRecommender), ``trainer`` (a callable ``(train, holdout) ->
TrainingReport``, default ``train_and_register`` on ``tracker``), ``retrain_min_new`` (50),
``retrain_min_total`` (30). Without ``incidents`` it only counts what it sees; without a
tracker or trainer it records history but never trains.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from selfheal_ml.agents.base import Agent, AgentContext, Selector
from selfheal_ml.clock import run_blocking
from selfheal_ml.events import (
    Event,
    IncidentDiagnosed,
    IncidentStatusChanged,
    ModelPromoted,
    ModelTrained,
    RepairExecuted,
    Tick,
)
from selfheal_ml.storage.incidents import IncidentStore, RepairAttemptRecord
from selfheal_ml.training.datasets import Dataset
from selfheal_ml.training.history import diagnosed_incident, executed_incident
from selfheal_ml.training.train import MODEL_NAME, TrainingReport, train_and_register

LABELLED_AT_LAST_TRAINING = "labelled_at_last_training"
HOLDOUT_FRACTION = 0.2
Trainer = Callable[[Dataset, Dataset], TrainingReport]


class LearningAgent(Agent):
    """Records outcomes, keeps playbooks, retrains and promotes the repair model."""

    name: ClassVar[str] = "Learning"
    subscriptions: ClassVar[tuple[Selector, ...]] = (
        RepairExecuted,
        IncidentDiagnosed,
        IncidentStatusChanged,
        Tick,
    )

    def __init__(self, context: AgentContext) -> None:
        super().__init__(context)
        extras = context.extras
        self.seen: Counter[str] = Counter()
        self.incidents: IncidentStore | None = extras.get("incidents")
        self.recommender: Any = extras.get("repair_model")
        tracker = extras.get("tracker")
        default = functools.partial(train_and_register, tracker) if tracker is not None else None
        self.trainer: Trainer | None = extras.get("trainer", default)
        self.retrain_min_new = int(extras.get("retrain_min_new", 50))
        self.retrain_min_total = int(extras.get("retrain_min_total", 30))
        self._training = False

    async def handle(self, event: Event) -> list[Event]:
        key = f"Tick:{event.kind}" if isinstance(event, Tick) else type(event).__name__
        self.seen[key] += 1
        if self.incidents is None:
            return []
        if isinstance(event, IncidentDiagnosed):
            await run_blocking(
                self.context.clock,
                self.incidents.record_diagnosis,
                diagnosed_incident(event),
                event.diagnosis,
                event.ts,
            )
            return []
        if isinstance(event, IncidentStatusChanged):
            await run_blocking(
                self.context.clock,
                self.incidents.record_status,
                event.incident_id,
                event.status,
                event.ts,
                event.reason,
            )
            return []
        if isinstance(event, RepairExecuted):
            await run_blocking(self.context.clock, self._record, event)
            if await run_blocking(self.context.clock, self._new_labelled) >= self.retrain_min_new:
                return await self.retrain()
            return []
        if isinstance(event, Tick) and event.kind == "retrain":
            return await self.retrain()
        return []

    def _record(self, event: RepairExecuted) -> None:
        store = self.incidents
        assert store is not None
        store.open_incident(executed_incident(event))
        attempt = RepairAttemptRecord(
            ts=event.ts,
            strategy=event.action,
            action=event.action,
            target=event.target,
            approved_by=event.approved_by or event.source,
            outcome=event.outcome,
            verified_at=event.ts,
        )
        store.record_attempt(event.incident_id, attempt)
        if event.outcome in ("worked", "did_not_work"):
            signature = store.signature_of(event.incident_id) or f"unknown|{event.target}"
            store.update_playbook(
                signature, event.action, worked=event.outcome == "worked", ts=event.ts
            )

    def _new_labelled(self) -> int:
        store = self.incidents
        assert store is not None
        last = int(store.state(LABELLED_AT_LAST_TRAINING) or 0)
        return store.count_labelled() - last

    async def retrain(self) -> list[Event]:
        """Train on the labelled history if there is enough of it; the resulting events."""
        if self.incidents is None or self.trainer is None or self._training:
            return []
        self._training = True
        try:
            report = await run_blocking(self.context.clock, self._train)
        finally:
            self._training = False
        if report is None:
            return []
        return self._announce(report)

    def _train(self) -> TrainingReport | None:
        store, trainer = self.incidents, self.trainer
        assert store is not None and trainer is not None
        features, labels, opened_at = store.labelled_frame()
        if len(labels) < self.retrain_min_total or len(set(labels)) < 2:
            self.log.info("not retraining: %d labelled incidents", len(labels))
            return None
        rows = features.to_dict("records")
        data = Dataset.of(
            [{str(k): float(v) for k, v in row.items()} for row in rows], labels, opened_at
        )
        train, holdout = data.split(1.0 - HOLDOUT_FRACTION)
        try:
            report = trainer(train, holdout)
        except ValueError as error:  # too little or too lopsided history: try again later
            self.log.warning("not retraining: %s", error)
            return None
        store.set_state(LABELLED_AT_LAST_TRAINING, str(len(labels)), self.context.clock.now())
        return report

    def _announce(self, report: TrainingReport) -> list[Event]:
        now = self.context.clock.now()
        events: list[Event] = [
            ModelTrained(
                ts=now,
                source=self.name,
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
                    ts=now, source=self.name, model_name=MODEL_NAME, version=report.version
                )
            )
        return events
