"""Retraining in a child process: it registers and promotes as in-process training does, the
service then serves the champion from the registry, and a failing child is logged while the
Learning agent keeps running."""

from __future__ import annotations

import functools
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from selfheal_ml.agents.base import AgentContext
from selfheal_ml.agents.learning import LearningAgent
from selfheal_ml.agents.retraining import LABELLED_AT_LAST_TRAINING
from selfheal_ml.bus import InMemoryEventBus
from selfheal_ml.clock import RealClock
from selfheal_ml.events import IncidentDiagnosed, ModelPromoted, ModelTrained, RepairExecuted, Tick
from selfheal_ml.lifecycle import Diagnosis, ObservedSignal
from selfheal_ml.storage import Database
from selfheal_ml.storage.incidents import IncidentStore
from selfheal_ml.tracking import Tracker
from selfheal_ml.training import CHAMPION, MODEL_NAME, Dataset, RepairRecommender, generate_history
from selfheal_ml.training.child_training import (
    TrainingFailedError,
    dataset_document,
    dataset_of_document,
    train_in_child_process,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
CACHE = [{"metric": "cache_hit_ratio", "score": -15.0, "dependency": "redis"}]
CRASH = [
    {"metric": "http_error_ratio", "score": 30.0, "platform": "a", "status_class": "5xx"},
    {"metric": "host_cpu_percent", "score": -8.0, "platform": "a"},
]


def _child(program: str) -> tuple[str, ...]:
    """A stand-in child command: ``program`` gets the same three arguments."""
    return (sys.executable, "-c", program)


def _datasets() -> tuple[Dataset, Dataset]:
    history = Dataset.from_history(generate_history(seed=51, count=60, start=T0, days=20))
    return history.split(0.8)


async def _label(agent: LearningAgent, count: int) -> list[Any]:
    """Diagnose and repair ``count`` incidents (two kinds, alternating); the events produced."""
    produced: list[Any] = []
    for number in range(count):
        crash = number % 2 == 0
        when = T0 + timedelta(hours=number)
        signals = tuple(ObservedSignal.model_validate(s) for s in (CRASH if crash else CACHE))
        diagnosis = Diagnosis(
            revision=1, opened_at=when, root_cause="x", platforms=("a",), signals=signals
        )
        assert agent.history is not None  # what the Diagnostic agent writes before publishing
        agent.history.record(
            IncidentDiagnosed(
                ts=when, source="Diagnostic", incident_id=f"i{number}", diagnosis=diagnosis
            )
        )
        produced += await agent.handle(
            RepairExecuted(
                ts=when + timedelta(minutes=5),
                source="Repair",
                incident_id=f"i{number}",
                action="restart_service" if crash else "clear_cache",
                target="a",
                outcome="worked",
            )
        )
    return produced


def test_a_dataset_survives_the_trip_to_the_child() -> None:
    train, _ = _datasets()
    again = dataset_of_document(dataset_document(train))
    assert again.labels == train.labels and again.opened_at == train.opened_at
    assert again.features.equals(train.features)


async def test_the_agent_trains_in_a_child_and_serves_the_champion_from_the_registry(
    tmp_path: Path,
) -> None:
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    recommender = RepairRecommender(tracker)
    store = IncidentStore(Database(tmp_path / "selfheal.duckdb"))
    context = AgentContext(
        bus=InMemoryEventBus(),
        clock=RealClock(),  # real time: the default trainer is the child process
        extras={
            "incidents": store,
            "tracker": tracker,
            "repair_model": recommender,
            "retrain_min_new": 1000,
            "retrain_min_total": 10,
        },
    )
    agent = LearningAgent(context)
    assert await _label(agent, 40) == []  # 1000 new labels are not there: no training yet
    produced = await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain"))
    assert [type(event) for event in produced] == [ModelTrained, ModelPromoted]
    assert produced[1].version == "1" == tracker.alias_version(MODEL_NAME, CHAMPION)
    assert 0.0 <= produced[0].metrics["macro_f1"] <= 1.0
    answer = recommender.recommend({"db_up_down": 40.0})
    assert recommender.model_version == "1" and answer.model_version == "1"


def test_a_refused_history_comes_back_as_a_value_error(tmp_path: Path) -> None:
    train, holdout = _datasets()
    refuse = (
        "import json, sys; from pathlib import Path; "
        "Path(sys.argv[3]).write_text(json.dumps({'refused': 'one class only'})); sys.exit(3)"
    )
    with pytest.raises(ValueError, match="one class only"):
        train_in_child_process("sqlite:///unused.db", train, holdout, command=_child(refuse))


@pytest.mark.parametrize(
    "program",
    [
        "import sys; print('boom', file=sys.stderr); sys.exit(9)",  # a crash
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",  # killed (the OOM killer)
        "import sys; from pathlib import Path; Path(sys.argv[3]).write_text('{')",  # no outcome
    ],
)
def test_a_failed_child_is_a_training_failure(tmp_path: Path, program: str) -> None:
    train, holdout = _datasets()
    with pytest.raises(TrainingFailedError):
        train_in_child_process("sqlite:///unused.db", train, holdout, command=_child(program))


def test_a_child_that_hangs_is_stopped(tmp_path: Path) -> None:
    train, holdout = _datasets()
    with pytest.raises(TrainingFailedError, match="did not finish"):
        train_in_child_process(
            "sqlite:///unused.db",
            train,
            holdout,
            command=_child("import time; time.sleep(60)"),
            timeout_s=1.0,
        )


async def test_a_failed_child_is_logged_and_the_agent_keeps_going(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = IncidentStore(Database(tmp_path / "selfheal.duckdb"))
    crash = _child("import sys; print('Killed', file=sys.stderr); sys.exit(137)")
    trainer = functools.partial(train_in_child_process, "sqlite:///unused.db", command=crash)
    context = AgentContext(
        bus=InMemoryEventBus(),
        clock=RealClock(),
        extras={
            "incidents": store,
            "trainer": trainer,
            "retrain_min_new": 6,
            "retrain_min_total": 6,
        },
    )
    agent = LearningAgent(context)
    with caplog.at_level(logging.ERROR):
        assert await _label(agent, 6) == []  # the 6th label triggers a training, which fails
        assert await agent.handle(Tick(ts=T0, source="scheduler", kind="retrain")) == []
    failures = [r for r in caplog.records if "retraining failed" in r.getMessage()]
    assert len(failures) == 2 and "exited 137: Killed" in failures[0].getMessage()
    assert store.state(LABELLED_AT_LAST_TRAINING) is None  # it tries again at the next trigger
    assert await _label(agent, 1) == []  # and still handles events
    assert agent.seen["RepairExecuted"] == 7
