"""The promotion gate never promotes a worse challenger; the fallback asks a human."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selfheal_ml.repair import Scores, decide, promotion_decision
from selfheal_ml.repair.playbook import PlaybookEntry, rank_playbook

unit = st.floats(min_value=0.0, max_value=1.0)


def _scores(macro_f1: float, top2: float, count: int = 100) -> Scores:
    return Scores(accuracy=macro_f1, macro_f1=macro_f1, top2_accuracy=top2, brier=0.1, count=count)


@given(unit, unit, unit, unit, st.floats(min_value=0.0, max_value=0.1))
def test_a_worse_challenger_never_becomes_champion(
    champion_f1: float,
    challenger_f1: float,
    champion_top2: float,
    challenger_top2: float,
    margin: float,
) -> None:
    decision = promotion_decision(
        _scores(challenger_f1, challenger_top2), _scores(champion_f1, champion_top2), margin
    )
    if challenger_f1 <= champion_f1:
        assert not decision.promote
    if decision.promote:
        assert challenger_f1 - champion_f1 >= margin
        assert challenger_top2 >= champion_top2 - margin


def test_first_model_is_promoted_but_not_from_an_empty_holdout() -> None:
    assert promotion_decision(_scores(0.5, 0.5), None).promote
    assert not promotion_decision(_scores(0.5, 0.5, count=0), None).promote


def test_a_clearly_better_challenger_is_promoted() -> None:
    decision = promotion_decision(_scores(0.95, 0.99), _scores(0.90, 0.98), margin=0.01)
    assert decision.promote and "gain" in decision.reason


def test_no_champion_falls_back_to_rules_and_asks_a_human() -> None:
    answer = decide(None, {"cache_hit_ratio_down": 12.0})
    assert answer.fallback and answer.needs_human_confirmation
    assert answer.model_version is None
    assert answer.strategies[0].strategy == "clear_cache"


def test_low_confidence_falls_back_to_rules() -> None:
    answer = decide(
        {"scale_out": 0.4, "restart_service": 0.35, "clear_cache": 0.25},
        {"disk_up": 9.0},
        floor=0.6,
        model_version="7",
    )
    assert answer.fallback and answer.needs_human_confirmation
    assert answer.strategies[0].strategy == "clear_temp_files"
    assert "below the floor" in answer.reason


def test_confident_model_decides_alone() -> None:
    answer = decide({"scale_out": 0.9, "restart_service": 0.1}, {}, floor=0.6, model_version="7")
    assert not answer.fallback and not answer.needs_human_confirmation
    assert [s.strategy for s in answer.strategies] == ["scale_out", "restart_service"]
    assert answer.model_version == "7"


def test_playbook_prefers_a_long_record_over_luck() -> None:
    lucky = PlaybookEntry("s", "a", attempts=2, successes=2)
    proven = PlaybookEntry("s", "b", attempts=50, successes=45)
    failing = PlaybookEntry("s", "c", attempts=10, successes=1)
    assert [e.strategy for e in rank_playbook([lucky, failing, proven])] == ["b", "a", "c"]
    assert lucky.with_outcome(False) == PlaybookEntry("s", "a", attempts=3, successes=2)
