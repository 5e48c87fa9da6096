"""The escalation gate reports a sustained anomaly once, and again only when it worsens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.anomaly import EscalationGate


def test_sustained_anomaly_passes_once() -> None:
    gate = EscalationGate(window_points=50)
    gated = [gate.update(score) for score in [0.0] * 5 + [9.0] * 30]
    assert gated.count(9.0) == 1


def test_worse_score_passes_inside_the_window() -> None:
    gate = EscalationGate(window_points=50)
    assert [gate.update(s) for s in [6.0, 6.0, 12.0]] == [6.0, 0.0, 12.0]


def test_memory_ends_after_the_window() -> None:
    gate = EscalationGate(window_points=3)
    assert [gate.update(s) for s in [6.0, 0.0, 0.0, 6.0]] == [6.0, 0.0, 0.0, 6.0]


def test_zero_window_disables_the_gate() -> None:
    gate = EscalationGate(window_points=0)
    assert [gate.update(s) for s in [3.0, 3.0]] == [3.0, 3.0]


def test_rejects_negative_window() -> None:
    with pytest.raises(ValueError, match="window_points"):
        EscalationGate(window_points=-1)


@given(st.lists(st.floats(min_value=0.0, max_value=100.0), max_size=300))
def test_gated_scores_are_the_input_or_zero(scores: list[float]) -> None:
    gate = EscalationGate(window_points=20)
    for score in scores:
        assert gate.update(score) in (score, 0.0)
