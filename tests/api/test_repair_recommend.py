"""POST /v1/repair/recommend: model answers, rule fallback, 422 naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from selfheal_ml.repair import FEATURE_NAMES
from selfheal_ml.training import RepairRecommender

URL = "/v1/repair/recommend"


class ConfidentModel:
    classes_ = np.array(["clear_cache", "restart_service", "scale_out"])

    def __init__(self, row: list[float]) -> None:
        self.row = row

    def predict_proba(self, features: Any) -> np.ndarray:
        assert list(features.columns) == list(FEATURE_NAMES)
        return np.tile(self.row, (len(features), 1))


def test_without_a_champion_the_rules_answer_and_ask_a_human(client: TestClient) -> None:
    response = client.post(URL, json={"cache_hit_ratio_down": 12.0, "db_query_duration_up": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["fallback"] is True and body["needs_human_confirmation"] is True
    assert body["model_version"] is None
    assert body["strategies"][0]["strategy"] == "clear_cache"
    probabilities = [s["probability"] for s in body["strategies"]]
    assert probabilities == sorted(probabilities, reverse=True)


def test_the_champion_answers_when_confident(client: TestClient) -> None:
    recommender = RepairRecommender(tracker=None)
    recommender.use(ConfidentModel([0.05, 0.15, 0.8]), "3")
    client.app.state.repair_recommender = recommender  # type: ignore[attr-defined]
    body = client.post(URL, json={"requests_up": 9.0, "hour_sin": -0.5}).json()
    assert body["fallback"] is False and body["needs_human_confirmation"] is False
    assert body["model_version"] == "3"
    assert [s["strategy"] for s in body["strategies"]] == [
        "scale_out",
        "restart_service",
        "clear_cache",
    ]
    assert body["strategies"][0]["probability"] == pytest.approx(0.8)


def test_low_confidence_falls_back(client: TestClient) -> None:
    recommender = RepairRecommender(tracker=None, floor=0.6)
    recommender.use(ConfidentModel([0.4, 0.35, 0.25]), "3")
    client.app.state.repair_recommender = recommender  # type: ignore[attr-defined]
    body = client.post(URL, json={"disk_up": 9.0}).json()
    assert body["fallback"] is True and body["needs_human_confirmation"] is True
    assert body["model_version"] == "3"
    assert body["strategies"][0]["strategy"] == "clear_temp_files"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"cpu_upp": 3.0}, "body.cpu_upp"),
        ({"cpu_up": "high"}, "body.cpu_up"),
        ({"cpu_up": -1.0}, "body.cpu_up"),
        ({"hour_sin": 2.0}, "body.hour_sin"),
        ({"weekend": 3}, "body.weekend"),
    ],
)
def test_malformed_features_are_422_naming_the_field(
    client: TestClient, payload: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=payload)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_a_body_that_is_not_an_object_is_422(client: TestClient) -> None:
    response = client.post(URL, json=[1, 2])
    assert response.status_code == 422
    assert response.json()["field"].startswith("body")
