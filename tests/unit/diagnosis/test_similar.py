"""Similar past incidents: cosine ranking on symptom and width features, cut and capped.

The query is ``db_up_down 3, latency_up 4`` (norm 5), so the cosines are easy by hand:
``(6, 8)`` -> 1.0, ``(4, 3)`` -> 24/25 = 0.96, ``latency_up 5`` -> 20/25 = 0.8,
``db_up_down 5`` -> 15/25 = 0.6, ``disk_up 7`` -> 0.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from selfheal_ml.diagnosis.similar import (
    COMPARED,
    MIN_SIMILARITY,
    PastIncident,
    SimilarIncident,
    most_similar,
)

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
QUERY = {"db_up_down": 3.0, "latency_up": 4.0}


def _past(incident_id: str, features: dict[str, float]) -> PastIncident:
    return PastIncident(
        incident_id, T0, f"cause-{incident_id}", "restart_service", "resolved", features
    )


HISTORY = [
    _past("disk", {"disk_up": 7.0}),
    _past("db_only", {"db_up_down": 5.0}),
    _past("same", {"db_up_down": 6.0, "latency_up": 8.0}),
    _past("latency_only", {"latency_up": 5.0}),
    _past("close", {"db_up_down": 4.0, "latency_up": 3.0}),
]


def _ranked(matches: list[SimilarIncident]) -> list[tuple[str, float]]:
    return [(match.incident_id, match.similarity) for match in matches]


def test_ranks_by_cosine_and_keeps_k() -> None:
    assert _ranked(most_similar(QUERY, HISTORY)) == [
        ("same", 1.0),
        ("close", 0.96),
        ("latency_only", 0.8),
    ]


def test_larger_k_stops_at_the_similarity_floor() -> None:
    assert _ranked(most_similar(QUERY, HISTORY, k=10)) == [
        ("same", 1.0),
        ("close", 0.96),
        ("latency_only", 0.8),
        ("db_only", 0.6),
    ]
    assert MIN_SIMILARITY == 0.5  # the disk incident (0.0) is below it


def test_min_similarity_is_inclusive() -> None:
    matches = most_similar(QUERY, HISTORY, k=10, min_similarity=0.6)
    assert [match.incident_id for match in matches][-1] == "db_only"
    strict = most_similar(QUERY, HISTORY, k=10, min_similarity=0.9)
    assert [match.incident_id for match in strict] == ["same", "close"]


def test_k_of_one_gives_the_best() -> None:
    assert _ranked(most_similar(QUERY, HISTORY, k=1)) == [("same", 1.0)]


def test_scale_does_not_matter() -> None:
    scaled = {name: value * 10 for name, value in QUERY.items()}
    assert _ranked(most_similar(scaled, HISTORY)) == _ranked(most_similar(QUERY, HISTORY))


def test_similarity_is_rounded_to_four_places() -> None:
    # (1, 1) against (3, 4): 7 / (sqrt(2) * 5) = 0.98995
    matches = most_similar(QUERY, [_past("p", {"db_up_down": 1.0, "latency_up": 1.0})])
    assert matches[0].similarity == 0.9899


def test_width_features_are_compared() -> None:
    assert {"platforms_anomalous", "dependencies_anomalous"} <= set(COMPARED)
    wide = {"latency_up": 4.0, "platforms_anomalous": 3.0}
    narrow = _past("narrow", {"latency_up": 4.0})
    # 16 / (5 * 4) = 0.8
    assert _ranked(most_similar(wide, [narrow])) == [("narrow", 0.8)]


def test_when_features_are_left_out() -> None:
    assert not {"hour_sin", "hour_cos", "weekend", "similar_incidents_7d"} & set(COMPARED)
    night = _past("night", {**QUERY, "hour_sin": 1.0, "weekend": 1.0})
    assert _ranked(most_similar(QUERY, [night])) == [("night", 1.0)]


def test_ties_keep_history_order() -> None:
    history = [_past("first", QUERY), _past("second", QUERY)]
    assert [match.incident_id for match in most_similar(QUERY, history)] == ["first", "second"]


def test_zero_query_matches_nothing() -> None:
    assert most_similar({}, HISTORY) == []
    assert most_similar({"hour_sin": 1.0}, HISTORY) == []


def test_empty_history_matches_nothing() -> None:
    assert most_similar(QUERY, []) == []


def test_zero_vector_past_incident_is_not_similar() -> None:
    empty = _past("empty", {})
    assert most_similar(QUERY, [empty]) == []
    assert _ranked(most_similar(QUERY, [empty, *HISTORY], k=1)) == [("same", 1.0)]


def test_match_carries_the_past_outcome() -> None:
    (match,) = most_similar(QUERY, [HISTORY[2]])
    assert match == SimilarIncident("same", T0, 1.0, "cause-same", "restart_service", "resolved")
    assert match.as_dict() == {
        "incident_id": "same",
        "opened_at": "2026-01-05T12:00:00+00:00",
        "similarity": 1.0,
        "root_cause": "cause-same",
        "resolved_by": "restart_service",
        "status": "resolved",
    }


def test_as_dict_without_opening_time() -> None:
    match = SimilarIncident("x", None, 0.7, None, None, None)
    assert match.as_dict()["opened_at"] is None


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_never_more_than_k(k: int) -> None:
    assert len(most_similar(QUERY, HISTORY, k=k, min_similarity=0.0)) <= k
