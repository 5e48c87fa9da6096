"""Forecast API: ad-hoc forecasts from a history, cached forecasts, and 422s naming the problem."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from selfheal_ml.clock import SimClock


def _history(sim_clock: SimClock, hours: int = 24 * 7) -> list[dict[str, object]]:
    rng = np.random.default_rng(1)
    start = sim_clock.now()
    values = 50 + 10 * np.sin(2 * np.pi * np.arange(hours) / 24) + rng.normal(0, 1, hours)
    return [
        {"ts": (start + timedelta(hours=step)).isoformat(), "value": float(value)}
        for step, value in enumerate(values)
    ]


def test_adhoc_forecast_has_nested_intervals(client: TestClient, sim_clock: SimClock) -> None:
    response = client.post("/v1/forecast", json={"history": _history(sim_clock), "horizon": 12})
    assert response.status_code == 200, response.text
    body = response.json()
    mean = np.array(body["mean"])
    lower80, upper80 = np.array(body["lower"]["80"]), np.array(body["upper"]["80"])
    lower95, upper95 = np.array(body["lower"]["95"]), np.array(body["upper"]["95"])
    assert len(mean) == len(body["index"]) == 12
    assert (lower95 <= lower80).all() and (lower80 <= mean).all()
    assert (mean <= upper80).all() and (upper80 <= upper95).all()
    first = pd.Timestamp(body["index"][0])
    assert first == pd.Timestamp(sim_clock.now()) + pd.Timedelta(hours=24 * 7)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda h: h[:10], "body.history"),
        (lambda h: h[:5] + h[6:], "body.history[5].ts"),
        (lambda h: [*h[:3], h[2], *h[4:]], "body.history[3].ts"),
        (lambda h: [*h[:7], {**h[7], "value": "NaN"}, *h[8:]], "body.history[7].value"),
    ],
)
def test_bad_history_is_422(
    client: TestClient, sim_clock: SimClock, change: object, field: str
) -> None:
    history = change(_history(sim_clock))  # type: ignore[operator]
    response = client.post("/v1/forecast", json={"history": history})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_bad_horizon_and_levels_are_422(client: TestClient, sim_clock: SimClock) -> None:
    history = _history(sim_clock)
    response = client.post("/v1/forecast", json={"history": history, "horizon": 0})
    assert response.json()["field"] == "body.horizon"
    response = client.post("/v1/forecast", json={"history": history, "levels": [99]})
    assert response.json()["field"] == "body.levels"


def test_cached_forecast_roundtrip_and_404(client: TestClient, sim_clock: SimClock) -> None:
    series = 'host_cpu_percent{host="a",platform="p"}'
    assert client.get(f"/v1/forecast/{series}").status_code == 404
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    steps = np.arange(1, 25)
    frame = pd.DataFrame(
        {
            "step": steps,
            "ts": pd.date_range(sim_clock.now(), periods=24, freq="h"),
            "mean": 40.0 + steps,
            "lo_80": 35.0 + steps, "hi_80": 45.0 + steps,
            "lo_95": 30.0 + steps, "hi_95": 50.0 + steps,
        }
    )  # fmt: skip
    runtime.forecasts.save(series, sim_clock.now(), "holt-winters", False, frame)
    response = client.get(f"/v1/forecast/{series}", params={"horizon": 6, "levels": "80"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mean"] == [41.0, 42.0, 43.0, 44.0, 45.0, 46.0]
    assert set(body["lower"]) == {"80"}
    assert client.get(f"/v1/forecast/{series}", params={"horizon": 25}).status_code == 422
    response = client.get(f"/v1/forecast/{series}", params={"levels": "70"})
    assert response.json()["field"] == "query.levels"
