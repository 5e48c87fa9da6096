"""Anomaly scoring API: per-point verdicts, live state untouched, 422s that name the problem."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from selfheal_ml.clock import SimClock


def _points(sim_clock: SimClock, values: list[float]) -> list[dict[str, object]]:
    start = sim_clock.now()
    return [
        {"ts": (start + timedelta(minutes=index)).isoformat(), "value": value}
        for index, value in enumerate(values)
    ]


def test_scores_every_point_and_flags_a_spike(client: TestClient, sim_clock: SimClock) -> None:
    rng = np.random.default_rng(7)
    values = list(100 + rng.normal(0, 1, 600))
    values[550] = 160.0
    response = client.post(
        "/v1/anomaly/score", json={"series": "cpu", "points": _points(sim_clock, values)}
    )
    assert response.status_code == 200, response.text
    scored = response.json()["points"]
    assert len(scored) == 600
    assert all(math.isfinite(point["score"]) for point in scored)
    assert scored[550]["is_anomaly"]
    assert scored[550]["score"] == max(point["score"] for point in scored)
    flagged = sum(point["is_anomaly"] for point in scored)
    assert flagged <= 5  # the spike, and not much else on a quiet series


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda points: points.__setitem__(3, {**points[3], "ts": points[1]["ts"]}),
            "body.points[3].ts",
        ),
        (
            lambda points: points.__setitem__(2, {**points[2], "ts": points[1]["ts"]}),
            "body.points[2].ts",
        ),
        (
            lambda points: points.__setitem__(1, {**points[1], "value": "NaN"}),
            "body.points[1].value",
        ),
        (
            lambda points: points.__setitem__(1, {**points[1], "value": "Infinity"}),
            "body.points[1].value",
        ),
        (
            lambda points: points.__setitem__(0, {"ts": "2026-01-05T00:00:00", "value": 1}),
            "body.points[0].ts",
        ),
    ],
)
def test_bad_points_are_422_naming_the_point(
    client: TestClient, sim_clock: SimClock, mutate: object, field: str
) -> None:
    points = _points(sim_clock, [1.0, 2.0, 3.0, 4.0, 5.0])
    mutate(points)  # type: ignore[operator]
    response = client.post("/v1/anomaly/score", json={"series": "s", "points": points})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_oversized_batch_is_a_422(client: TestClient, sim_clock: SimClock) -> None:
    points = _points(sim_clock, [1.0] * 10_001)
    response = client.post("/v1/anomaly/score", json={"series": "s", "points": points})
    assert response.status_code == 422
    assert response.json()["field"] == "body.points"


def test_empty_and_unknown_fields_are_422(client: TestClient) -> None:
    assert (
        client.post("/v1/anomaly/score", json={"series": "s", "points": []}).json()["field"]
        == "body.points"
    )
    response = client.post("/v1/anomaly/score", json={"series": "s", "points": [], "extra": 1})
    assert response.status_code == 422


def test_recent_anomalies_starts_empty(client: TestClient) -> None:
    response = client.get("/v1/anomalies")
    assert response.status_code == 200
    assert response.json() == []
