"""The baselines, the scores and the Wilson interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from selfheal_ml.repair import STRATEGIES, MajorityBaseline, RuleBaseline, rule_ranking
from selfheal_ml.repair.metrics import score_probabilities, wilson_interval


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"db_up_down": 30.0, "db_connections_down": 20.0}, "reset_db_connections"),
        ({"db_connections_up": 8.0}, "reset_db_connections"),
        ({"cache_hit_ratio_down": 9.0, "db_query_duration_up": 6.0}, "clear_cache"),
        ({"errors_5xx_up": 30.0, "config_change_recent": 1.0}, "rollback_config"),
        ({"errors_5xx_up": 30.0}, "restart_service"),
        ({"requests_up": 9.0}, "scale_out"),
        ({}, "restart_service"),
    ],
)
def test_rules_pick_the_documented_strategy(features: dict[str, float], expected: str) -> None:
    ranking = rule_ranking(features)
    assert ranking[0] == expected
    assert sorted(ranking) == sorted(STRATEGIES)


def test_baselines_follow_the_classifier_api() -> None:
    features = pd.DataFrame([{"requests_up": 9.0}, {"disk_up": 9.0}, {}])
    labels = ["scale_out", "scale_out", "clear_temp_files"]
    rules = RuleBaseline().fit(features, labels)
    probabilities = rules.predict_proba(features)
    assert probabilities.shape == (3, len(rules.classes_))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert rules.predict(features).tolist()[:2] == ["scale_out", "clear_temp_files"]
    majority = MajorityBaseline().fit(features, labels)
    assert majority.predict(features).tolist() == ["scale_out"] * 3


def test_scores_agree_with_sklearn() -> None:
    rng = np.random.default_rng(5)
    classes = ["a", "b", "c"]
    probabilities = rng.dirichlet(np.ones(3), size=50)
    truth = [classes[i] for i in rng.integers(0, 3, size=50)]
    scores = score_probabilities(probabilities, classes, truth)
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    assert scores.accuracy == pytest.approx(accuracy_score(truth, predicted))
    assert scores.macro_f1 == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert scores.accuracy <= scores.top2_accuracy <= 1.0
    assert 0.0 <= scores.brier <= 2.0
    assert sum(map(sum, scores.confusion)) == 50


def test_an_unseen_true_label_counts_as_wrong() -> None:
    scores = score_probabilities(np.array([[1.0, 0.0]]), ["a", "b"], ["z"])
    assert scores.accuracy == 0.0 and scores.top2_accuracy == 0.0
    assert scores.brier == pytest.approx(2.0)


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=500))
def test_wilson_interval_brackets_the_rate(successes: int, trials: int) -> None:
    successes = min(successes, trials)
    low, high = wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_wilson_interval_narrows_with_evidence() -> None:
    small = wilson_interval(8, 10)
    large = wilson_interval(800, 1000)
    assert large[1] - large[0] < small[1] - small[0]
