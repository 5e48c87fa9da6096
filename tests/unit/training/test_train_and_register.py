"""Training against a temporary MLflow store: runs logged, champion set, worse never promoted."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from selfheal_ml.storage.incidents import HistoryIncident
from selfheal_ml.tracking import Tracker
from selfheal_ml.training import (
    CHAMPION,
    EXPERIMENT,
    MODEL_NAME,
    Dataset,
    RepairRecommender,
    generate_history,
    train_and_register,
)

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def histories() -> tuple[list[HistoryIncident], list[HistoryIncident]]:
    train = generate_history(seed=31, count=90, start=START, days=30)
    holdout = generate_history(seed=32, count=30, start=datetime(2026, 2, 5, tzinfo=UTC), days=10)
    return train, holdout


def _shuffled(data: Dataset, seed: int) -> Dataset:
    labels = list(data.labels)
    random.Random(seed).shuffle(labels)
    return Dataset(data.features, tuple(labels), data.opened_at)


def test_champion_then_a_worse_challenger_stays_a_challenger(
    tmp_path: Path, histories: tuple[list[HistoryIncident], list[HistoryIncident]]
) -> None:
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    train, holdout = (Dataset.from_history(h) for h in histories)
    recommender = RepairRecommender(tracker)
    assert not recommender.reload()  # no champion yet: the rules answer, a human confirms
    fallback = recommender.recommend({"db_up_down": 40.0})
    assert fallback.fallback and fallback.needs_human_confirmation
    assert fallback.strategies[0].strategy == "reset_db_connections"

    first = train_and_register(tracker, train, holdout, candidates=("logistic_regression",))
    assert first.decision.promote and first.version == "1"
    assert tracker.alias_version(MODEL_NAME, CHAMPION) == "1"
    assert first.best.holdout.macro_f1 > first.baselines["majority"].macro_f1

    worse = train_and_register(
        tracker, _shuffled(train, seed=1), holdout, candidates=("logistic_regression",)
    )
    assert worse.version == "2"
    assert worse.best.holdout.macro_f1 < first.best.holdout.macro_f1
    assert not worse.decision.promote
    assert tracker.alias_version(MODEL_NAME, CHAMPION) == "1"
    assert tracker.version_tags(MODEL_NAME, "2")["role"] == "challenger"

    runs = tracker.search_runs(EXPERIMENT)
    assert set(runs["tags.role"]) == {"candidate", "baseline"}
    for column in (
        "metrics.macro_f1",
        "metrics.top2_accuracy",
        "metrics.brier",
        "metrics.accuracy",
        "params.train_start",
        "params.holdout_end",
    ):
        assert column in runs.columns

    assert recommender.reload() and recommender.model_version == "1"
    features = histories[1][0].features
    answer = recommender.recommend(features)
    assert answer.strategies and sum(s.probability for s in answer.strategies) == pytest.approx(1)


def test_a_candidate_the_data_cannot_train_is_skipped(
    tmp_path: Path, histories: tuple[list[HistoryIncident], list[HistoryIncident]]
) -> None:
    """Early stopping's inner split needs two members of every class: with a class seen once,
    gradient boosting refuses; the others still train and one is registered."""
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    train, holdout = (Dataset.from_history(h) for h in histories)
    labels = list(train.labels)
    labels[0] = "a_strategy_seen_once"
    lopsided = Dataset(train.features, tuple(labels), train.opened_at)
    report = train_and_register(
        tracker, lopsided, holdout, candidates=("hist_gradient_boosting", "logistic_regression")
    )
    assert [result.name for result in report.candidates] == ["logistic_regression"]
    with pytest.raises(ValueError, match="no candidate"):
        train_and_register(tracker, lopsided, holdout, candidates=("hist_gradient_boosting",))
