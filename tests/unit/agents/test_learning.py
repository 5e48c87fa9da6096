"""Learning agent: harmless without ports; records outcomes, playbooks persist, retrains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.learning import LearningAgent
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import SimClock
from selfheal_ml.events import IncidentDiagnosed, ModelPromoted, ModelTrained, RepairExecuted, Tick
from selfheal_ml.lifecycle import Diagnosis, ObservedSignal
from selfheal_ml.repair import PromotionDecision, Scores
from selfheal_ml.storage import Database
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.training import Dataset, RepairRecommender

T0 = datetime(2026, 1, 5, tzinfo=UTC)
CACHE = [{"metric": "cache_hit_ratio", "score": -15.0, "dependency": "redis"}]
CRASH = [
    {"metric": "http_error_ratio", "score": 30.0, "platform": "a", "status_class": "5xx"},
    {"metric": "host_cpu_percent", "score": -8.0, "platform": "a"},
]


def _context(clock: SimClock, **extras: Any) -> AgentContext:
    return AgentContext(bus=InMemoryEventBus(), clock=clock, extras=extras)


def _diagnosed(number: int, signals: list[dict[str, Any]]) -> IncidentDiagnosed:
    when = T0 + timedelta(hours=number)
    return IncidentDiagnosed(
        ts=when,
        source="Diagnostic",
        incident_id=f"i{number}",
        diagnosis=Diagnosis(
            revision=1,
            opened_at=when,
            root_cause="x",
            platforms=("a",),
            signals=tuple(ObservedSignal.model_validate(signal) for signal in signals),
        ),
    )


def _write_diagnosis(agent: LearningAgent, number: int, signals: list[dict[str, Any]]) -> None:
    """What the Diagnostic agent writes before it publishes the diagnosis of incident ``number``
    (the Learning agent writes what follows it)."""
    assert agent.history is not None
    agent.history.record(_diagnosed(number, signals))


def _executed(number: int, action: str, outcome: str = "worked") -> RepairExecuted:
    return RepairExecuted(
        ts=T0 + timedelta(hours=number, minutes=5),
        source="Repair",
        incident_id=f"i{number}",
        action=action,
        target="a",
        outcome=outcome,
    )


class FakeModel:
    classes_ = np.array(["clear_cache", "restart_service"])

    def predict_proba(self, features: Any) -> np.ndarray:
        return np.tile([0.9, 0.1], (len(features), 1))


class FakeTrainer:
    """Stands in for train_and_register: records the split it got, promotes."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, train: Dataset, holdout: Dataset) -> Any:
        self.calls.append((len(train), len(holdout)))
        assert train.window[1] is not None and holdout.window[0] is not None
        assert train.window[1] <= holdout.window[0]  # time-ordered split
        scores = Scores(accuracy=1.0, macro_f1=1.0, top2_accuracy=1.0, brier=0.0, count=1)
        best = type("Best", (), {"holdout": scores, "model": FakeModel()})()
        return type(
            "Report",
            (),
            {"version": "4", "best": best, "decision": PromotionDecision(True, "no champion yet")},
        )()


async def test_without_ports_it_only_counts(sim_clock: SimClock) -> None:
    agent = LearningAgent(_context(sim_clock))
    assert await agent.handle(_executed(0, "clear_cache")) == []
    assert await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain")) == []
    assert agent.seen["RepairExecuted"] == 1 and agent.seen["Tick:retrain"] == 1


async def test_records_outcomes_and_playbooks_survive_a_restart(
    db_path: Path, sim_clock: SimClock
) -> None:
    database = Database(db_path)
    agent = LearningAgent(_context(sim_clock, incidents=IncidentStore(database)))
    _write_diagnosis(agent, 0, CACHE)
    await agent.handle(_executed(0, "add_index", outcome="did_not_work"))
    await agent.handle(_executed(0, "clear_cache"))
    await agent.handle(_executed(9, "restart_service", outcome="unknown"))  # never diagnosed
    database.close()

    store = IncidentStore(Database(db_path))
    signature = store.signature_of("i0")
    assert signature is not None and "cache_hit_ratio_down" in signature
    entries = {entry.strategy: entry for entry in store.playbook(signature)}
    assert (entries["add_index"].attempts, entries["add_index"].successes) == (1, 0)
    assert (entries["clear_cache"].attempts, entries["clear_cache"].successes) == (1, 1)
    row = store.incident("i0")
    assert row is not None and row["resolved_by"] == "clear_cache"
    assert store.count_labelled() == 1  # i9 has no features and no verified outcome
    assert len(store.attempts_frame()) == 3


async def test_retrains_when_enough_new_labels_arrived(db_path: Path, sim_clock: SimClock) -> None:
    trainer = FakeTrainer()
    recommender = RepairRecommender(tracker=None)
    agent = LearningAgent(
        _context(
            sim_clock,
            incidents=IncidentStore(Database(db_path)),
            trainer=trainer,
            repair_model=recommender,
            retrain_min_new=10,
            retrain_min_total=10,
        )
    )
    produced = []
    for number in range(10):
        crash = number % 2 == 0
        _write_diagnosis(agent, number, CRASH if crash else CACHE)
        produced += await agent.handle(
            _executed(number, "restart_service" if crash else "clear_cache")
        )
    assert trainer.calls == [(8, 2)]
    assert [type(event) for event in produced] == [ModelTrained, ModelPromoted]
    assert produced[1].version == "4"  # type: ignore[attr-defined]
    assert recommender.model_version == "4"
    assert not recommender.recommend({}).fallback
    # nothing new since: the scheduled retrain still runs, a further label does not
    assert await agent.handle(_executed(0, "clear_cache")) == []
    assert len(await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain"))) == 2


async def test_too_little_history_does_not_train(db_path: Path, sim_clock: SimClock) -> None:
    trainer = FakeTrainer()
    agent = LearningAgent(
        _context(sim_clock, incidents=IncidentStore(Database(db_path)), trainer=trainer)
    )
    _write_diagnosis(agent, 0, CACHE)
    await agent.handle(_executed(0, "clear_cache"))
    assert await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain")) == []
    assert trainer.calls == []


async def test_a_history_training_cannot_use_is_skipped_not_fatal(
    db_path: Path, sim_clock: SimClock
) -> None:
    """Live history can be lopsided (a strategy seen once): training refuses with a
    ValueError; the agent logs it and keeps running instead of failing."""

    def refuse(train: Dataset, holdout: Dataset) -> Any:
        raise ValueError("The least populated class in y has only 1 member")

    agent = LearningAgent(
        _context(
            sim_clock,
            incidents=IncidentStore(Database(db_path)),
            trainer=refuse,
            retrain_min_new=100,
            retrain_min_total=2,
        )
    )
    for number, (signals, action) in enumerate(
        [(CRASH, "restart_service"), (CACHE, "clear_cache"), (CRASH, "restart_service")]
    ):
        _write_diagnosis(agent, number, signals)
        await agent.handle(_executed(number, action))
    assert await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain")) == []


async def test_the_approver_of_a_high_risk_repair_is_remembered(
    db_path: Path, sim_clock: SimClock
) -> None:
    store = IncidentStore(Database(db_path))
    agent = LearningAgent(_context(sim_clock, incidents=store))
    _write_diagnosis(agent, 0, CACHE)
    approved = _executed(0, "add_index").model_copy(update={"approved_by": "alice"})
    await agent.handle(approved)
    await agent.handle(_executed(1, "clear_cache"))
    assert store.attempts_frame()["approved_by"].tolist() == ["alice", "Repair"]
