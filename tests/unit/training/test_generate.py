"""Simulated histories: reproducible, labelled by what worked, features from observations."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from selfheal_ml.repair import FEATURE_NAMES
from selfheal_ml.sim import CATALOGUE, FaultKind
from selfheal_ml.storage.incidents import HistoryIncident
from selfheal_ml.training import Dataset, generate_history, plan_incidents

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def history() -> list[HistoryIncident]:
    return generate_history(seed=21, count=60, start=START, days=20)


def test_plans_are_reproducible_and_recur() -> None:
    plans = plan_incidents(seed=4, count=200, start=START, days=60)
    assert plans == plan_incidents(seed=4, count=200, start=START, days=60)
    assert [p.at for p in plans] == sorted(p.at for p in plans)
    pairs = Counter((p.kind, p.platform) for p in plans)
    assert max(pairs.values()) >= 3  # recurring faults
    assert any(p.duration_s is not None for p in plans)  # some are transient


def test_history_is_time_ordered_and_detected_after_the_fault(
    history: list[HistoryIncident],
) -> None:
    assert len(history) >= 50
    assert [item.opened_at for item in history] == sorted(item.opened_at for item in history)
    for item in history:
        assert item.started_at is not None and item.opened_at >= item.started_at
        assert item.closed_at is not None and item.closed_at >= item.opened_at
        assert set(item.features) == set(FEATURE_NAMES)


def test_the_label_is_the_strategy_that_worked(history: list[HistoryIncident]) -> None:
    labelled = [item for item in history if item.resolved_by]
    assert len(labelled) >= 0.9 * len(history)
    true_fixes = 0
    for item in labelled:
        assert item.root_cause is not None
        fixes = {action.value for action in CATALOGUE[FaultKind(item.root_cause)].fixing_actions}
        true_fixes += item.resolved_by in fixes  # else: a transient fault ended meanwhile
        assert item.attempts[-1].outcome == "worked"
        assert item.attempts[-1].strategy == item.resolved_by
        assert all(a.outcome == "did_not_work" for a in item.attempts[:-1])
    assert true_fixes >= 0.9 * len(labelled)
    assert any(len(item.attempts) > 1 for item in labelled)  # some repairs fail first
    assert len({item.resolved_by for item in labelled}) >= 6


def test_recurrence_is_counted_per_signature(history: list[HistoryIncident]) -> None:
    seen: Counter[str] = Counter()
    for item in history:
        assert item.record.similar_incidents_7d <= seen[item.signature]
        seen[item.signature] += 1
    assert any(item.features["similar_incidents_7d"] > 0 for item in history)


def test_dataset_from_history_splits_by_time(history: list[HistoryIncident]) -> None:
    data = Dataset.from_history(history)
    fit, later = data.split(0.75)
    assert len(fit) + len(later) == len(data)
    assert fit.opened_at[-1] <= later.opened_at[0]
    assert list(data.features.columns) == list(FEATURE_NAMES)


def test_same_seed_same_history() -> None:
    first = generate_history(seed=5, count=6, start=START, days=3)
    again = generate_history(seed=5, count=6, start=START, days=3)
    assert [(i.incident_id, i.resolved_by, i.features) for i in first] == [
        (i.incident_id, i.resolved_by, i.features) for i in again
    ]
